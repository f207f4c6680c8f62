// Package cache remembers, for each projection projgen has rendered, the
// hashes of the files it rendered, keyed by a hash of everything the
// rendering read and of the projgen build that did it. A later run that
// computes the same key and finds the same hashes on disk has proved that
// rendering again would write the same bytes, and keeps the files as
// they are.
//
// The cache is local, as the go command's build cache is: it lives in the
// user's cache directory, never in the module, and losing it costs only
// time.
package cache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Env names the environment variable that sets the cache directory; the
// value off turns the cache off.
const Env = "PROJGEN_CACHE"

// Cache is a directory of entries, each the file hashes of one rendering.
type Cache struct {
	dir   string
	build string
}

// Key identifies one rendering: a SHA-256 of its inputs and of the build.
type Key [sha256.Size]byte

// FileSum is one rendered file: its slash-separated path, relative to the
// module root, and the SHA-256 of its content.
type FileSum struct {
	Path string
	Sum  [sha256.Size]byte
}

// Sum returns the FileSum of the file at path with content data.
func Sum(path string, data []byte) FileSum { return FileSum{Path: path, Sum: sha256.Sum256(data)} }

// Open returns the cache in dir for the projgen build named build, which
// must change whenever projgen's code does; entries of other builds are
// never found.
func Open(dir, build string) *Cache { return &Cache{dir: dir, build: build} }

// Default returns the cache that the environment asks for: the directory
// of $PROJGEN_CACHE, or projgen in the user's cache directory, for this
// executable's build, with the entries not used for five days removed,
// once a day. It returns nil, and no error, when PROJGEN_CACHE is off or
// the system has no cache directory, and nil with an error that says
// what to do when the directory can not be made: projgen then renders
// everything.
func Default() (*Cache, error) {
	dir := os.Getenv(Env)
	if dir == "off" {
		return nil, nil
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, nil
		}
		dir = filepath.Join(base, "projgen")
	}
	build, err := Executable()
	if err != nil {
		return nil, fmt.Errorf("identify the projgen build for its cache (set %s=off to work without it): %w", Env, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("projgen renders every projection, without its cache: %w; set %s to a writable directory, or to off", err, Env)
	}
	c := Open(dir, build)
	// A cache that can not be trimmed still works.
	_ = c.Trim(5 * 24 * time.Hour)
	return c, nil
}

// Executable returns an identity of the running executable that changes
// whenever its code does: the Go build ID the linker records, which
// hashes the binary, or where it can not be read, a SHA-256 of the file.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if id, ok := elfBuildID(exe); ok {
		return "go-build-id:" + id, nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", exe, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// elfBuildID reads the Go build ID note of an ELF executable.
func elfBuildID(exe string) (string, bool) {
	f, err := elf.Open(exe)
	if err != nil {
		return "", false
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return "", false
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 {
		return "", false
	}
	// An ELF note: name size, descriptor size, type, the name "Go\0\0",
	// then the descriptor, which is the build ID.
	bo := f.ByteOrder
	nameSize, descSize := bo.Uint32(data), bo.Uint32(data[4:])
	if nameSize != 4 || string(data[12:16]) != "Go\x00\x00" || uint64(16)+uint64(descSize) > uint64(len(data)) {
		return "", false
	}
	id := string(data[16 : 16+descSize])
	return id, id != ""
}

// Key returns the key of a rendering of inputs, an encoding of everything
// the rendering reads, by this cache's build.
func (c *Cache) Key(inputs []byte) Key {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(c.build)))
	h.Write(n[:])
	h.Write([]byte(c.build))
	h.Write(inputs)
	return Key(h.Sum(nil))
}

func (c *Cache) path(k Key) string {
	s := hex.EncodeToString(k[:])
	return filepath.Join(c.dir, s[:2], s)
}

// Get returns the files recorded under k, and false when there are none
// or the entry can not be read: a miss costs a rendering, never a wrong
// file.
func (c *Cache) Get(k Key) ([]FileSum, bool) {
	p := c.path(k)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	files, err := parse(data)
	if err != nil {
		return nil, false
	}
	// Mark the entry used, an hour at most out of date, so that Trim
	// keeps it.
	if info, err := os.Stat(p); err == nil && time.Since(info.ModTime()) > time.Hour {
		now := time.Now()
		_ = os.Chtimes(p, now, now)
	}
	return files, true
}

// Put records files under k. It writes a temporary file and renames it,
// so that a reader, of this process or another, sees the whole entry or
// none.
func (c *Cache) Put(k Key, files []FileSum) error {
	p := c.path(k)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, werr := tmp.Write(format(files))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// format writes one line per file: its hash in hex, a space, its path.
func format(files []FileSum) []byte {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "%x %s\n", f.Sum, f.Path)
	}
	return b.Bytes()
}

func parse(data []byte) ([]FileSum, error) {
	var files []FileSum
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		sum, path, ok := strings.Cut(sc.Text(), " ")
		var f FileSum
		if n, err := hex.Decode(f.Sum[:], []byte(sum)); !ok || err != nil || n != len(f.Sum) || path == "" {
			return nil, fmt.Errorf("cache: malformed entry line %q", sc.Text())
		}
		f.Path = path
		files = append(files, f)
	}
	return files, sc.Err()
}

// Trim removes the entries not used for maxAge, at most once a day: the
// cache stays as large as the renderings in use.
func (c *Cache) Trim(maxAge time.Duration) error {
	marker := filepath.Join(c.dir, "trim.txt")
	if info, err := os.Stat(marker); err == nil && time.Since(info.ModTime()) < 24*time.Hour {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == marker {
			return nil
		}
		if info, err := d.Info(); err == nil && time.Since(info.ModTime()) > maxAge {
			os.Remove(p)
		}
		return nil
	})
}
