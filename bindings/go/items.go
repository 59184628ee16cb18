package isola

import (
	"context"
	"encoding/json"
	"iter"
)

// Items calls fn with positional args and yields each value its generator
// (sync or async) yields, as JSON, as soon as the guest produces it:
//
//	for item, err := range sb.Items(ctx, "tokens", prompt) {
//		if err != nil {
//			return err // the call failed; always the last pair
//		}
//		fmt.Println(string(item))
//	}
//
// The call runs on a goroutine of its own and waits for the loop to take
// each item (back-pressure); the loop body runs on the iterating goroutine,
// so it may use the sandbox's siblings, block, or take its time — which
// stalls the guest, whose time limit keeps running. The generator's return
// value is not yielded. Breaking out of the loop cancels the call (as
// Cancel does: the sandbox is then unusable, Close it) and returns once
// the call has returned; so does cancelling ctx, which yields the
// ErrCancelled error last.
func (s *Sandbox) Items(ctx context.Context, fn string, args ...any) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		if ctx == nil {
			ctx = context.Background()
		}
		if args == nil {
			args = []any{}
		}
		callCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		items := make(chan json.RawMessage)
		stopped := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			sink := SinkFuncs{Item: func(v json.RawMessage) {
				select {
				case items <- v:
				case <-stopped:
				}
			}}
			done <- s.Call(callCtx, fn, args, nil, sink)
		}()
		for {
			select {
			case v := <-items:
				if !yield(v, nil) {
					close(stopped)
					cancel()
					<-done
					return
				}
			case err := <-done:
				// Every item was handed over before the call returned
				// (the channel is unbuffered).
				if err != nil {
					yield(nil, err)
				}
				return
			}
		}
	}
}
