package isola_test

import (
	"bytes"
	"errors"
	"testing"

	isola "github.com/isola-sandbox/isola/bindings/go"
)

func TestFilesInAndOut(t *testing.T) {
	sb := newSandbox(t, nil)
	upload := []byte{0, 1, 2, 255, 254, 10}
	if err := sb.WriteFile("/tmp/in/data.bin", upload); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	mustEval(t, sb, "import os\n"+
		"data = open('/tmp/in/data.bin', 'rb').read()\n"+
		"os.makedirs('/tmp/out/sub', exist_ok=True)\n"+
		"open('/tmp/out/result.bin', 'wb').write(bytes(reversed(data)))\n")
	got, err := sb.ReadFile("/tmp/out/result.bin")
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if want := []byte{10, 254, 255, 2, 1, 0}; !bytes.Equal(got, want) {
		t.Fatalf("ReadFile = %v, want %v", got, want)
	}
	entries, err := sb.ListDir("/tmp/out")
	if err != nil {
		t.Fatalf("ListDir: %v", err)
	}
	want := []isola.DirEntry{{Name: "result.bin", Kind: isola.FileKindFile}, {Name: "sub", Kind: isola.FileKindDirectory}}
	if len(entries) != len(want) || entries[0] != want[0] || entries[1] != want[1] {
		t.Fatalf("ListDir = %+v, want %+v", entries, want)
	}
	if _, err := sb.ReadFile("/tmp/missing"); !errors.Is(err, isola.ErrIO) {
		t.Fatalf("missing file: got %v, want ErrIO", err)
	}
	if err := sb.WriteFile("/etc/passwd", []byte("x")); !errors.Is(err, isola.ErrInvalidArgument) {
		t.Fatalf("outside scratch: got %v, want ErrInvalidArgument", err)
	}
}
