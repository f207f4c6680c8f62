package cache

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPutGet(t *testing.T) {
	dir := t.TempDir()
	c := Open(dir, "build A")
	files := []FileSum{Sum("a/x_gen.go", []byte("package a\n")), Sum("a/y gen.go", nil)}
	k := c.Key([]byte(`{"Name":"x"}`))
	if _, ok := c.Get(k); ok {
		t.Fatal("an empty cache has an entry")
	}
	if err := c.Put(k, files); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k)
	if !ok || !slices.Equal(got, files) {
		t.Fatalf("Get = %v, %v; want %v", got, ok, files)
	}
	for name, other := range map[string]Key{
		"other inputs": c.Key([]byte(`{"Name":"y"}`)),
		"other build":  Open(dir, "build B").Key([]byte(`{"Name":"x"}`)),
		// The build's length is part of the key: "build A"+"{..." is not
		// "build "+"A{...".
		"the same bytes, split elsewhere": Open(dir, "build ").Key([]byte(`A{"Name":"x"}`)),
	} {
		if other == k {
			t.Errorf("%s: the same key", name)
		}
		if _, ok := c.Get(other); ok {
			t.Errorf("%s: found an entry", name)
		}
	}
}

func TestGetMissesAMalformedEntry(t *testing.T) {
	c := Open(t.TempDir(), "build")
	k := c.Key([]byte("inputs"))
	for _, entry := range []string{"zz a.go\n", "0123 a.go\n", strings.Repeat("0", 64) + "\n", strings.Repeat("0", 64) + " \n"} {
		if err := os.MkdirAll(filepath.Dir(c.path(k)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.path(k), []byte(entry), 0o644); err != nil {
			t.Fatal(err)
		}
		if files, ok := c.Get(k); ok {
			t.Errorf("entry %q: Get = %v, want a miss", entry, files)
		}
	}
}

// TestConcurrentPutGet has writers and readers of the same keys race: a
// reader sees a whole entry or none, never part of one.
func TestConcurrentPutGet(t *testing.T) {
	c := Open(t.TempDir(), "build")
	var files []FileSum
	for i := range 200 {
		files = append(files, Sum(strings.Repeat("d/", i%7)+"f.go", []byte{byte(i)}))
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := c.Key([]byte{byte(i % 5)})
				if w%2 == 0 {
					if err := c.Put(k, files); err != nil {
						t.Error(err)
					}
				} else if got, ok := c.Get(k); ok && !slices.Equal(got, files) {
					t.Errorf("a partial entry: %d files of %d", len(got), len(files))
				}
			}
		})
	}
	wg.Wait()
}

func TestTrim(t *testing.T) {
	dir := t.TempDir()
	c := Open(dir, "build")
	old, recent := c.Key([]byte("old")), c.Key([]byte("recent"))
	for _, k := range []Key{old, recent} {
		if err := c.Put(k, []FileSum{Sum("a.go", nil)}); err != nil {
			t.Fatal(err)
		}
	}
	week := time.Now().Add(-7 * 24 * time.Hour)
	if err := os.Chtimes(c.path(old), week, week); err != nil {
		t.Fatal(err)
	}
	if err := c.Trim(5 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(old); ok {
		t.Error("an entry unused for a week is still there")
	}
	if _, ok := c.Get(recent); !ok {
		t.Error("a recent entry is gone")
	}
	// Once a day: a second trim the same day removes nothing.
	if err := os.Chtimes(c.path(recent), week, week); err != nil {
		t.Fatal(err)
	}
	if err := c.Trim(5 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.path(recent)); err != nil {
		t.Errorf("the second trim of the day removed an entry: %v", err)
	}
}

// TestExecutable checks that the build identity of this test binary is
// its Go build ID, and the same each time.
func TestExecutable(t *testing.T) {
	a, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	if a != b || len(a) < 20 {
		t.Fatalf("Executable = %q, then %q", a, b)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := elfBuildID(exe); ok && !strings.HasPrefix(a, "go-build-id:") {
		t.Errorf("Executable = %q, want the build ID", a)
	}
}

func TestDefault(t *testing.T) {
	t.Setenv(Env, "off")
	if c, err := Default(); c != nil || err != nil {
		t.Errorf("%s=off: Default = %v, %v; want none", Env, c, err)
	}
	dir := t.TempDir()
	t.Setenv(Env, dir)
	c, err := Default()
	if err != nil || c == nil || c.dir != dir {
		t.Fatalf("%s=%s: Default = %+v, %v", Env, dir, c, err)
	}
}
