package isola

import (
	"encoding/json"
	"strings"
)

// Sink receives the output of one Eval or Call, in the order the guest
// produced it. Its methods run on the goroutine that made the call, before
// the call returns, one at a time, while the guest waits. They must not use
// the same sandbox (the call holds its lock).
// A panic in a method stops delivery to the sink for the rest of the call
// and is re-raised by the call once the sandbox has returned.
type Sink interface {
	// OnItem receives a value yielded by a generator, as JSON.
	OnItem(value json.RawMessage)
	// OnResult receives one value per successful Eval or Call. For a call:
	// the return value (null when the function or generator returns
	// nothing). For Eval and EvalFile: the value of the script's final
	// expression statement, null when the script ends with a statement, the
	// repr text (a JSON string) when the value has no JSON form.
	OnResult(value json.RawMessage)
	// OnStdout receives text the guest wrote to sys.stdout.
	OnStdout(text string)
	// OnStderr receives text the guest wrote to sys.stderr.
	OnStderr(text string)
	// OnLog receives a logging record: level (10 DEBUG … 50 CRITICAL),
	// logger name and formatted message.
	OnLog(level int, logger, message string)
}

// SinkFuncs adapts optional functions to Sink; nil fields drop that output.
type SinkFuncs struct {
	Item   func(value json.RawMessage)
	Result func(value json.RawMessage)
	Stdout func(text string)
	Stderr func(text string)
	Log    func(level int, logger, message string)
}

// OnItem implements Sink.
func (f SinkFuncs) OnItem(v json.RawMessage) {
	if f.Item != nil {
		f.Item(v)
	}
}

// OnResult implements Sink.
func (f SinkFuncs) OnResult(v json.RawMessage) {
	if f.Result != nil {
		f.Result(v)
	}
}

// OnStdout implements Sink.
func (f SinkFuncs) OnStdout(s string) {
	if f.Stdout != nil {
		f.Stdout(s)
	}
}

// OnStderr implements Sink.
func (f SinkFuncs) OnStderr(s string) {
	if f.Stderr != nil {
		f.Stderr(s)
	}
}

// OnLog implements Sink.
func (f SinkFuncs) OnLog(level int, logger, message string) {
	if f.Log != nil {
		f.Log(level, logger, message)
	}
}

// EventKind says which Sink method an Event came through.
type EventKind int

// The kinds of Event.
const (
	EventItem EventKind = iota
	EventResult
	EventStdout
	EventStderr
	EventLog
)

func (k EventKind) String() string {
	switch k {
	case EventItem:
		return "item"
	case EventResult:
		return "result"
	case EventStdout:
		return "stdout"
	case EventStderr:
		return "stderr"
	case EventLog:
		return "log"
	}
	return "unknown"
}

// Event is one output of a call as recorded by a Collector.
type Event struct {
	Kind EventKind
	// Value is set for EventItem and EventResult.
	Value json.RawMessage
	// Text is the text of EventStdout and EventStderr, the message of
	// EventLog.
	Text string
	// Level and Logger are set for EventLog.
	Level  int
	Logger string
}

// Collector is a Sink recording every event in order. Reuse it across calls
// only with Reset in between. It is not safe for concurrent use (sinks are
// never called concurrently).
type Collector struct {
	Events []Event
}

// OnItem implements Sink.
func (c *Collector) OnItem(v json.RawMessage) {
	c.Events = append(c.Events, Event{Kind: EventItem, Value: v})
}

// OnResult implements Sink.
func (c *Collector) OnResult(v json.RawMessage) {
	c.Events = append(c.Events, Event{Kind: EventResult, Value: v})
}

// OnStdout implements Sink.
func (c *Collector) OnStdout(s string) {
	c.Events = append(c.Events, Event{Kind: EventStdout, Text: s})
}

// OnStderr implements Sink.
func (c *Collector) OnStderr(s string) {
	c.Events = append(c.Events, Event{Kind: EventStderr, Text: s})
}

// OnLog implements Sink.
func (c *Collector) OnLog(level int, logger, message string) {
	c.Events = append(c.Events, Event{Kind: EventLog, Level: level, Logger: logger, Text: message})
}

// Reset forgets every recorded event.
func (c *Collector) Reset() { c.Events = nil }

// Items returns the yielded values in order.
func (c *Collector) Items() []json.RawMessage {
	var out []json.RawMessage
	for _, e := range c.Events {
		if e.Kind == EventItem {
			out = append(out, e.Value)
		}
	}
	return out
}

// Result returns the last result value, or nil when there was none.
func (c *Collector) Result() json.RawMessage {
	for i := len(c.Events) - 1; i >= 0; i-- {
		if c.Events[i].Kind == EventResult {
			return c.Events[i].Value
		}
	}
	return nil
}

// Stdout returns everything written to stdout.
func (c *Collector) Stdout() string { return c.text(EventStdout) }

// Stderr returns everything written to stderr.
func (c *Collector) Stderr() string { return c.text(EventStderr) }

// Logs returns the logging records in order.
func (c *Collector) Logs() []Event {
	var out []Event
	for _, e := range c.Events {
		if e.Kind == EventLog {
			out = append(out, e)
		}
	}
	return out
}

func (c *Collector) text(kind EventKind) string {
	var b strings.Builder
	for _, e := range c.Events {
		if e.Kind == kind {
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

// callState is what a C sink's user_data (a cgo.Handle) refers to during
// one call.
type callState struct {
	sink     Sink
	panicked bool
	panicVal any
}

// deliver calls f with the sink unless an earlier callback panicked; a panic
// is recorded instead of unwinding through the C frames of the library.
func (st *callState) deliver(f func(Sink)) {
	if st.panicked || st.sink == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			st.panicked = true
			st.panicVal = v
		}
	}()
	f(st.sink)
}
