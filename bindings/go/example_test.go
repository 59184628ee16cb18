package isola_test

import (
	"context"
	"encoding/json"
	"fmt"

	isola "github.com/isola-sandbox/isola/bindings/go"
)

func Example() {
	tpl, err := isola.NewTemplate(nil) // embedded Python runtime
	if err != nil {
		panic(err)
	}
	defer tpl.Close()

	sb, err := tpl.NewSandbox(&isola.SandboxOptions{MaxMemory: 128 << 20})
	if err != nil {
		panic(err)
	}
	defer sb.Close()

	ctx := context.Background()
	err = sb.Eval(ctx, `
def countdown(n):
    while n:
        yield n
        n -= 1
    print("liftoff")
    return "done"
`, nil)
	if err != nil {
		panic(err)
	}

	err = sb.Call(ctx, "countdown", []any{3}, nil, isola.SinkFuncs{
		Item:   func(v json.RawMessage) { fmt.Println("item", string(v)) },
		Stdout: func(s string) { fmt.Print("stdout ", s) },
		Result: func(v json.RawMessage) { fmt.Println("result", string(v)) },
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// item 3
	// item 2
	// item 1
	// stdout liftoff
	// result "done"
}
