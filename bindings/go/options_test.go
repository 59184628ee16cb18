package isola_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	isola "github.com/isola-sandbox/isola/bindings/go"
)

func evalResult(t *testing.T, sb *isola.Sandbox, code string) string {
	t.Helper()
	res, err := sb.EvalResult(context.Background(), code)
	if err != nil {
		t.Fatalf("EvalResult: %v", err)
	}
	return string(res)
}

func TestArgvIsSysArgvPerSandbox(t *testing.T) {
	tp, err := isola.NewTemplate(&isola.TemplateOptions{
		Defaults: isola.SandboxOptions{Argv: []string{"tool.py", "--from-template"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	inherits, err := tp.NewSandbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inherits.Close()
	jsonEq(t, []byte(evalResult(t, inherits, "import sys\nsys.argv")), `["tool.py","--from-template"]`)

	own, err := tp.NewSandbox(&isola.SandboxOptions{Argv: []string{"report.py", "--count", "3", "a b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	got := evalResult(t, own, "import argparse\n"+
		"p = argparse.ArgumentParser()\n"+
		"p.add_argument('--count', type=int)\n"+
		"p.add_argument('files', nargs='*')\n"+
		"a = p.parse_args()\n"+
		"[p.prog, a.count, a.files]")
	jsonEq(t, []byte(got), `["report.py",3,["a b"]]`)

	plain := newSandbox(t, nil)
	jsonEq(t, []byte(evalResult(t, plain, "import sys\nsys.argv")), `["sandbox"]`)

	for _, bad := range [][]string{{}, {"x.py", "a\x00b"}, {"x.py", "\xff"}} {
		_, err := tp.NewSandbox(&isola.SandboxOptions{Argv: bad})
		if !errors.Is(err, isola.ErrInvalidArgument) || !strings.Contains(err.Error(), "argv") {
			t.Errorf("Argv %q: got %v, want an invalid-argument error naming argv", bad, err)
		}
	}
}

// The prelude of the C++ and Zig binding tests too: the same prelude and
// template settings share one cached snapshot (compiled once per cache).
const snapshotPrelude = "import random\nTOKEN = random.random()\ndef snap_double(x):\n    return 2 * x\n"

func TestPreludeSnapshotRunsThePreludeOnceForEverySandbox(t *testing.T) {
	tp, err := isola.NewTemplate(&isola.TemplateOptions{Prelude: snapshotPrelude, PreludeSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	var results []string
	for i := 0; i < 2; i++ {
		sb, err := tp.NewSandbox(nil)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, evalResult(t, sb, "[snap_double(21), TOKEN]"))
		sb.Close()
	}
	if !strings.HasPrefix(results[0], "[42,") {
		t.Fatalf("got %s, want [42, TOKEN]", results[0])
	}
	// One run at template build: the number it drew is in every sandbox (a
	// prelude run per sandbox would draw a new one each time).
	if results[1] != results[0] {
		t.Fatalf("sandboxes differ: %s vs %s", results[0], results[1])
	}

	// With the snapshot the prelude runs in NewTemplate, so its error is
	// returned there.
	_, err = isola.NewTemplate(&isola.TemplateOptions{
		Prelude: "raise KeyError('prelude broke')\n", PreludeSnapshot: true,
	})
	var e *isola.Error
	if !errors.As(err, &e) || e.Code != isola.CodeGuestException || e.GuestType != "KeyError" {
		t.Fatalf("got %v, want a KeyError guest exception", err)
	}
}
