package isola_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	isola "github.com/isola-sandbox/isola/bindings/go"
)

// The scientific runtime chosen by name: `make runtime-sci` lays
// isola-python-sci.wasm out beside target/debug/libisola.so, where the
// library looks for it (bindings/go/test.sh runs after it in `make test`).
func TestRuntimeNameSci(t *testing.T) {
	sci, err := isola.NewTemplate(&isola.TemplateOptions{RuntimeName: "sci"})
	if err != nil {
		t.Fatalf("NewTemplate(RuntimeName: sci): %v (build it with `make runtime-sci`)", err)
	}
	defer sci.Close()
	sb, err := sci.NewSandbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ctx := context.Background()
	res, err := sb.EvalResult(ctx, "import numpy\nint(numpy.arange(6).reshape(2, 3).sum())")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, "15")
	res, err = sb.EvalResult(ctx, "(numpy.arange(6.0).reshape(2, 3) @ numpy.array([1.0, 2.0, 3.0])).tolist()")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, "[8.0, 26.0]")
	// The default runtime has no numpy: the name really chose another component.
	_, err = newSandbox(t, nil).EvalResult(ctx, "import numpy")
	var e *isola.Error
	if !errors.As(err, &e) || e.Code != isola.CodeGuestException || e.GuestType != "ModuleNotFoundError" {
		t.Fatalf("import numpy in the default runtime: %v", err)
	}
}

func TestRuntimeNameUnknownOrMalformed(t *testing.T) {
	_, err := isola.NewTemplate(&isola.TemplateOptions{RuntimeName: "no-such-runtime"})
	var e *isola.Error
	if !errors.As(err, &e) || e.Code != isola.CodeInvalidArgument ||
		!strings.Contains(e.Message, "isola-python-no-such-runtime.wasm") {
		t.Fatalf("unknown runtime name: %v", err)
	}
	_, err = isola.NewTemplate(&isola.TemplateOptions{RuntimeName: "../sci"})
	if !errors.Is(err, isola.ErrInvalidArgument) || !strings.Contains(err.Error(), "runtime name") {
		t.Fatalf("malformed runtime name: %v", err)
	}
	_, err = isola.NewTemplate(&isola.TemplateOptions{RuntimeName: "sci", RuntimePath: "/x.wasm"})
	if !errors.Is(err, isola.ErrInvalidArgument) || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both RuntimeName and RuntimePath: %v", err)
	}
}
