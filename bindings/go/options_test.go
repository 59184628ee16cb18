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

// A NUL byte ends a C string: Eval of "x = 1\x00raise SystemExit(9)" ran
// "x = 1" and succeeded (python refuses source holding a NUL byte), and env
// values and file paths were cut short. Every string given to the library
// is refused instead, before anything runs.
func TestStringsWithANulByteAreRefused(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, nil)
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, isola.ErrInvalidArgument) || !strings.Contains(err.Error(), "NUL byte") {
			t.Errorf("%s: got %v, want an invalid-argument error about the NUL byte", what, err)
		}
	}
	refused("Eval", sb.Eval(ctx, "x = 1\x00raise SystemExit(9)", nil))
	refused("EvalNamed", sb.EvalNamed(ctx, "x = 2", "a\x00b.py", nil))
	refused("EvalFile", sb.EvalFile(ctx, "/tmp/a.py\x00", nil))
	refused("CallJSON", sb.CallJSON(ctx, "f\x00", "", "", nil))
	refused("CallJSON args", sb.CallJSON(ctx, "f", "[1]\x00", "", nil))
	refused("CallArgs", sb.CallArgs(ctx, "f", isola.Args().Named("k\x00", 1), nil))
	refused("WriteFile", sb.WriteFile("/tmp/a\x00/b", []byte("x")))
	_, err := tpl.NewSandbox(&isola.SandboxOptions{Env: map[string]string{"K": "va\x00lue"}})
	refused("Env", err)
	_, err = isola.NewTemplate(&isola.TemplateOptions{Prelude: "x = 1\x00y = 2"})
	refused("Prelude", err)
	// Nothing of the refused calls ran or was written.
	jsonEq(t, []byte(evalResult(t, sb, "import os\n[globals().get('x'), os.listdir('/tmp')]")), `[null,[]]`)
}
