package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fuzzTypes are the field types the fuzzer chooses from: every row of the
// type table, named and aliased types, and types no column can hold.
var fuzzTypes = []string{
	"string", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
	"uint32", "uint64", "float32", "float64", "time.Time", "time.Duration", "uuid.UUID",
	"[]byte", "[32]byte", "ID", "[]string", "[]int64", "[]time.Time", "[]uuid.UUID", "*string",
	"*int64", "*time.Time", "map[string]int", "struct{ A int }", "[]Value", "any",
	"json.RawMessage", "Status", "Cents", "Value", "Tags", "Alias", "**int", "[]*string",
	"map[int]string", "[2]int", "[][]string", "chan int", "func()", "complex128", "uintptr",
	"error", "*Value", "rune", "[]Status",
}

// fuzzNames are field names the fuzzer chooses from, or builds its own:
// Go and SQL keywords once lower-cased, names of bookkeeping columns and of
// the generated code's own identifiers, initialisms, non-ASCII letters.
var fuzzNames = []string{
	"Type", "Select", "Order", "User", "ID", "Id", "CreatedAt", "AggregateID", "AggregateVersion",
	"Position", "Meta", "Ctx", "Data", "Err", "Query", "Func", "Range", "Map", "Len", "Error",
	"Default", "Table", "Key", "Group", "URL", "HTTPServer", "Ünïcode", "Λάμδα", "X", "Go", "P",
	"M", "Mr", "Ret", "View", "T", "Tc", "Payload", "Failing", "Replay", "Pool", "RowKey",
	"ReadModel", "AggregateIDValue", "Value", "Context", "Fmt", "Bytes",
}

// fuzzEvent decodes fuzz input into the Go source of an event package: up
// to two events, each with up to six fields of chosen names, types and
// json tags.
func fuzzEvent(spec []byte) string {
	var b strings.Builder
	b.WriteString(`package fz

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

var (
	_ = json.RawMessage(nil)
	_ = time.Time{}
	_ = uuid.UUID{}
)

// Fz is the aggregate.
type Fz struct {
	ID      uuid.UUID
	Version int64
}

// Status is a named string.
type Status string

// Cents is a named integer.
type Cents int64

// ID is a named UUID.
type ID [16]byte

// Value is a named struct.
type Value struct{ N int }

// Tags is a named slice.
type Tags []string

// Alias is an alias.
type Alias = string
`)
	next := func() byte {
		if len(spec) == 0 {
			return 0
		}
		c := spec[0]
		spec = spec[1:]
		return c
	}
	events := 1 + int(next()%2)
	for e := range events {
		fmt.Fprintf(&b, "\n// Event%d is an event.\ntype Event%d struct {\n", e, e)
		for range 1 + int(next()%6) {
			name := fuzzName(next, next())
			typ := fuzzTypes[int(next())%len(fuzzTypes)]
			tag := ""
			if c := next(); c%3 == 0 {
				tag = fmt.Sprintf(" `json:%q`", fuzzTag(next, c))
			}
			fmt.Fprintf(&b, "\t%s %s%s\n", name, typ, tag)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// fuzzName returns one of fuzzNames, or a name built from fuzz bytes,
// which may not be a valid exported identifier.
func fuzzName(next func() byte, c byte) string {
	if c < 200 {
		return fuzzNames[int(c)%len(fuzzNames)]
	}
	const chars = "AZaz09_ÉλΩ"
	runes := []rune(chars)
	var b strings.Builder
	b.WriteRune('A' + rune(c%26))
	for range int(next() % 6) {
		b.WriteRune(runes[int(next())%len(runes)])
	}
	return b.String()
}

// fuzzTag returns a json tag name, possibly odd.
func fuzzTag(next func() byte, c byte) string {
	tags := []string{"", "-", "user-name", "a.b", "UPPER", "select", "1st", "_", "ünï", "name,omitempty", "created_at", "x y"}
	return tags[int(c/3+next())%len(tags)]
}

var fuzzBase struct {
	once   sync.Once
	gomod  []byte
	gosum  []byte
	failed error
}

// fuzzModule prepares, once, the go.mod and go.sum of a module that
// requires everything generated code imports, so that each fuzz run needs
// no network.
func fuzzModule(t testing.TB) ([]byte, []byte) {
	fuzzBase.once.Do(func() {
		dir := t.TempDir()
		gomod := fmt.Sprintf("module example.com/fz\n\ngo 1.26.0\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgithub.com/projgen/projgen/projection v0.0.0\n\tgo.uber.org/mock v0.6.0\n)\n\nreplace github.com/projgen/projgen/projection => %s\n", filepath.Join(repoRoot(t.(*testing.T)), "projection"))
		src := "package fz\n\nimport (\n\t_ \"github.com/google/uuid\"\n\t_ \"github.com/projgen/projgen/projection/projectiontest\"\n\t_ \"go.uber.org/mock/gomock\"\n)\n"
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
			fuzzBase.failed = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "fz.go"), []byte(src), 0o644); err != nil {
			fuzzBase.failed = err
			return
		}
		c := exec.Command("go", "mod", "tidy")
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			fuzzBase.failed = fmt.Errorf("go mod tidy: %v\n%s", err, out)
			return
		}
		fuzzBase.gomod, _ = os.ReadFile(filepath.Join(dir, "go.mod"))
		fuzzBase.gosum, _ = os.ReadFile(filepath.Join(dir, "go.sum"))
	})
	if fuzzBase.failed != nil {
		t.Fatal(fuzzBase.failed)
	}
	return fuzzBase.gomod, fuzzBase.gosum
}

// FuzzNew writes an aggregate package whose events have fields of names,
// types and json tags the fuzzer chooses, runs projgen new on it, and
// checks the outcome. Either projgen refuses with exit status 2, a message
// that says what is wrong and where, and nothing written; or it succeeds,
// and the generated code passes go vet and its own tests, which apply the
// generated migration and run every generated statement against
// PostgreSQL. It never panics and never exits 1.
//
//	go test -run '^$' -fuzz FuzzNew -fuzztime 5m .
func FuzzNew(f *testing.F) {
	// field encodes one field as fuzzEvent reads it: a name from
	// fuzzNames, a type from fuzzTypes, and no json tag.
	field := func(name, typ int) []byte { return []byte{byte(name), byte(typ), 1} }
	seed := func(events int, fields ...[]byte) []byte {
		out := []byte{byte(events - 1), byte(len(fields) - 1)}
		for _, f := range fields {
			out = append(out, f...)
		}
		return out
	}
	f.Add(seed(1, field(20, 0), field(21, 6), field(22, 14), field(23, 16), field(24, 17), field(25, 3)))
	f.Add(seed(1, field(0, 11), field(1, 32), field(2, 33), field(3, 28), field(4, 18), field(5, 30)))
	f.Add(seed(1, field(6, 19), field(7, 20), field(8, 24), field(9, 25), field(10, 26), field(11, 31)))
	f.Add(seed(1, field(12, 42), field(13, 0)))                      // a channel: refused
	f.Add(append(seed(2, field(26, 1)), 0, 26, 0, 1))                // one name, two types, two events
	f.Add([]byte{0, 4, 210, 3, 1, 2, 3, 19, 6, 2, 23, 9, 16, 32, 5}) // built names, odd tags
	f.Fuzz(func(t *testing.T, spec []byte) {
		gomod, gosum := fuzzModule(t)
		dir := t.TempDir()
		src := fuzzEvent(spec)
		for name, data := range map[string][]byte{
			"go.mod":         gomod,
			"go.sum":         gosum,
			"fz/fz.go":       []byte(src),
			"fz/doc_test.go": []byte("package fz\n"),
		} {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, out := projgen(t, "new", "--aggregate", "fz", "--events", "Event0,Event1", "--yes", "--no-test", "--dir", dir)
		if code == 2 && strings.Contains(out, "has no type Event1") {
			code, out = projgen(t, "new", "--aggregate", "fz", "--events", "Event0", "--yes", "--no-test", "--dir", dir)
		}
		t.Logf("projgen new: exit %d\n%s", code, out)
		switch code {
		case 0:
		case 2:
			if !strings.Contains(out, "projgen: ") || len(strings.TrimSpace(out)) < 20 {
				t.Fatalf("exit 2 without a clear message for\n%s\noutput: %q", src, out)
			}
			if !strings.Contains(out, ".go:") && !strings.Contains(out, "field") && !strings.Contains(out, "column") {
				t.Fatalf("exit 2 with a message that names no file, field or column for\n%s\noutput: %s", src, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "projgen.yaml")); err == nil {
				t.Fatalf("exit 2 but projgen.yaml was written, for\n%s\noutput: %s", src, out)
			}
			return
		default:
			t.Fatalf("projgen new: exit %d for\n%s\noutput: %s", code, src, out)
		}
		for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
			c := exec.Command("go", args...)
			c.Dir = dir
			c.Env = append(os.Environ(), "PROJGEN_TEST_DATABASE_URL="+databaseURL(), "PROJGEN_REQUIRE_DB=1")
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("go %s failed on the code generated for\n%s\n%s", strings.Join(args, " "), src, bytes.TrimSpace(out))
			}
		}
	})
}
