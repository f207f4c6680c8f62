package migration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// SumFile is the name of the checksum file of a migration directory.
const SumFile = "projgen.sum"

// Sum returns the checksum file of a migration directory: a first line
// that sums the rest, then "name h1:hash" for each file, sorted by name,
// where hash is the base64 SHA-256 of the file. Like atlas.sum, it lets a
// tool notice a migration edited after it was written.
func Sum(files map[string][]byte) []byte {
	var body bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&body, "%s %s\n", name, hash(files[name]))
	}
	var out bytes.Buffer
	out.WriteString(hash(body.Bytes()) + "\n")
	out.Write(body.Bytes())
	return out.Bytes()
}

func hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "h1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// Mismatch is a difference between a migration directory and its
// checksum file.
type Mismatch struct {
	// File is the file's name.
	File string
	// Problem is "edited", "added" (not in the checksum file) or
	// "removed" (in the checksum file, but gone).
	Problem string
}

// Check compares a directory's migration files with its checksum file and
// returns the files that differ, sorted by name. A checksum file that does
// not parse is an error.
func Check(sum []byte, files map[string][]byte) ([]Mismatch, error) {
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(sum))
	first := true
	var body bytes.Buffer
	total := ""
	for sc.Scan() {
		line := sc.Text()
		if first {
			first, total = false, strings.TrimSpace(line)
			continue
		}
		name, h, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(h, "h1:") {
			return nil, fmt.Errorf("%s: line %q is not \"name h1:hash\"", SumFile, line)
		}
		want[name] = h
		body.WriteString(line + "\n")
	}
	if total != hash(body.Bytes()) {
		return nil, fmt.Errorf("%s was edited: its first line does not sum the others", SumFile)
	}
	var out []Mismatch
	for _, name := range slices.Sorted(maps.Keys(files)) {
		h, ok := want[name]
		switch {
		case !ok:
			out = append(out, Mismatch{File: name, Problem: "added"})
		case h != hash(files[name]):
			out = append(out, Mismatch{File: name, Problem: "edited"})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := files[name]; !ok {
			out = append(out, Mismatch{File: name, Problem: "removed"})
		}
	}
	slices.SortStableFunc(out, func(a, b Mismatch) int { return strings.Compare(a.File, b.File) })
	return out, nil
}
