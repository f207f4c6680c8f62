package write_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/render"
	"github.com/projgen/projgen/generator/write"
)

// diffCase is one file's old and new content, and what the plan does to it.
type diffCase struct {
	name     string
	old, new string
	status   write.Status
}

// numbered returns the lines "line 1" to "line n", each with its newline.
func numbered(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d\n", i+1)
	}
	return lines
}

// join concatenates lines, dropping the last newline when noEOL is set, as
// a file without a trailing newline has.
func join(lines []string, noEOL bool) string {
	s := strings.Join(lines, "")
	if noEOL {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

// edited returns lines with the ones at the indexes replaced by f's result;
// an empty result deletes the line, and a result of several lines inserts.
func edited(lines []string, f func(i int, l string) string) []string {
	var out []string
	for i, l := range lines {
		if r := f(i, l); r != "" {
			out = append(out, strings.SplitAfter(strings.TrimSuffix(r, "\n"), "\n")...)
			out[len(out)-1] += "\n"
		}
	}
	return out
}

// at returns an edit for edited that applies g to the lines at the indexes
// and keeps the others.
func at(g func(l string) string, idx ...int) func(int, string) string {
	return func(i int, l string) string {
		if slices.Contains(idx, i) {
			return g(l)
		}
		return l
	}
}

func changed(l string) string     { return "changed " + l }
func deleted(string) string       { return "" }
func insertAfter(l string) string { return l + "inserted 1\ninserted 2\n" }

// handCases are the edits whose hunk headers are easy to get wrong: at the
// start and end of a file, hunks whose context joins them into one, hunks
// just far enough apart to stay two, and missing trailing newlines.
func handCases() []diffCase {
	n20, n100 := numbered(20), numbered(100)
	return []diffCase{
		{name: "change first line", old: join(n20, false), new: join(edited(n20, at(changed, 0)), false)},
		{name: "change last line", old: join(n20, false), new: join(edited(n20, at(changed, 19)), false)},
		{name: "insert at start", old: join(n20, false), new: "new first\n" + join(n20, false)},
		{name: "append at end", old: join(n20, false), new: join(n20, false) + "new last\n"},
		{name: "delete first lines", old: join(n20, false), new: join(n20[3:], false)},
		{name: "delete last lines", old: join(n20, false), new: join(n20[:17], false)},
		{name: "change in the middle", old: join(n20, false), new: join(edited(n20, at(changed, 9)), false)},
		// Two changes 2 lines apart share one hunk; the hunk after them
		// must still start at the same line in both files.
		{name: "joined hunk then another", old: join(n20, false), new: join(edited(n20, at(changed, 1, 4, 14)), false)},
		{name: "joined inserts then another", old: join(n100, false), new: join(edited(n100, at(insertAfter, 10, 13, 60)), false)},
		{name: "joined deletes then another", old: join(n100, false), new: join(edited(n100, at(deleted, 10, 13, 60)), false)},
		{name: "joined deletes then insert", old: join(n100, false), new: join(edited(n100, func(i int, l string) string {
			switch i {
			case 10, 12, 16:
				return ""
			case 83:
				return insertAfter(l)
			}
			return l
		}), false)},
		// Changes 6 unchanged lines apart: their contexts touch.
		{name: "gap of 6", old: join(n20, false), new: join(edited(n20, at(changed, 2, 9)), false)},
		// 7 unchanged lines apart: two hunks, as diff -u makes.
		{name: "gap of 7", old: join(n20, false), new: join(edited(n20, at(changed, 2, 10)), false)},
		{name: "gap of 8", old: join(n20, false), new: join(edited(n20, at(changed, 2, 11)), false)},
		{name: "many hunks", old: join(n100, false), new: join(edited(n100, func(i int, l string) string {
			switch {
			case i%17 == 3:
				return changed(l)
			case i%23 == 5:
				return ""
			case i%29 == 7:
				return insertAfter(l)
			}
			return l
		}), false)},
		{name: "old lacks final newline", old: join(n20, true), new: join(n20, false)},
		{name: "new lacks final newline", old: join(n20, false), new: join(n20, true)},
		{name: "both lack final newline, last line changed", old: join(n20, true), new: join(edited(n20, at(changed, 19)), true)},
		{name: "both lack final newline, early change", old: join(n20, true), new: join(edited(n20, at(changed, 3)), true)},
		{name: "lacks final newline, line appended", old: join(n20, true), new: join(n20, false) + "new last"},
		{name: "emptied", old: join(n20, false), new: ""},
		{name: "filled", old: "", new: join(n20, false)},
		{name: "one line to another", old: "a\n", new: "b\n"},
		{name: "create", new: join(n20, false), status: write.Create},
		{name: "create one line without newline", new: "x", status: write.Create},
		{name: "delete", old: join(n20, false), status: write.Delete},
		{name: "delete one line without newline", old: "x", status: write.Delete},
	}
}

// randomCases returns n random edits of random files, from a fixed seed so
// that a failure can be run again. The lines come from a small alphabet so
// that they repeat, as braces and blank lines do in Go source.
func randomCases(n int) []diffCase {
	r := rand.New(rand.NewPCG(12, 34))
	word := func() string {
		if r.IntN(4) == 0 {
			return fmt.Sprintf("unique %d\n", r.Int())
		}
		return []string{"}\n", "\n", "\treturn nil\n", "x := 1\n", "if err != nil {\n"}[r.IntN(5)]
	}
	var cases []diffCase
	for len(cases) < n {
		old := make([]string, r.IntN(60))
		for i := range old {
			old[i] = word()
		}
		var new []string
		for i := 0; i <= len(old); i++ {
			switch r.IntN(12) {
			case 0: // insert a run
				for range 1 + r.IntN(4) {
					new = append(new, word())
				}
			case 1: // delete a run
				i += r.IntN(4)
				continue
			case 2: // replace a line
				new = append(new, word())
				continue
			}
			if i < len(old) {
				new = append(new, old[i])
			}
		}
		c := diffCase{
			name: fmt.Sprintf("random %d", len(cases)),
			old:  join(old, r.IntN(5) == 0),
			new:  join(new, r.IntN(5) == 0),
		}
		if c.old != c.new {
			cases = append(cases, c)
		}
	}
	return cases
}

// TestDiffMatchesDiffU checks Plan.Diff against GNU diff -u: the same hunk
// headers and bodies where both choose the same alignment, and where they
// do not, headers that agree with their bodies and with the files, and a
// patch that turns the old file into the new one.
func TestDiffMatchesDiffU(t *testing.T) {
	diffU, err := exec.LookPath("diff")
	if err != nil {
		t.Skip("no diff binary on PATH to compare with: " + err.Error())
	}
	if out, err := exec.Command(diffU, "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU")) {
		t.Skipf("diff is not GNU diff (its --label and hunk format are assumed): %v %s", err, out)
	}
	patch, _ := exec.LookPath("patch")
	if patch == "" {
		t.Log("no patch binary on PATH: the patches are not applied")
	}

	cases := append(handCases(), randomCases(300)...)
	dir := t.TempDir()
	aligned := 0
	for i, c := range cases {
		if c.status == write.Unchanged {
			c.status = write.Update
		}
		got := planDiff(c)
		if got == "" {
			t.Errorf("%s: Diff is empty for different contents", c.name)
			continue
		}
		checkHunks(t, c, got)

		oldLabel, newLabel := "a/f.txt", "b/f.txt"
		switch c.status {
		case write.Create:
			oldLabel = "/dev/null"
		case write.Delete:
			newLabel = "/dev/null"
		}
		oldFile, newFile := filepath.Join(dir, fmt.Sprintf("%d.old", i)), filepath.Join(dir, fmt.Sprintf("%d.new", i))
		writeFile(t, oldFile, c.old)
		writeFile(t, newFile, c.new)
		out, err := exec.Command(diffU, "-u", "--label", oldLabel, "--label", newLabel, oldFile, newFile).Output()
		if exitCode(err) != 1 {
			t.Fatalf("%s: diff -u: %v", c.name, err)
		}
		want := string(out)
		gotHunks, wantHunks := hunksOf(t, got), hunksOf(t, want)
		sameBodies := len(gotHunks) == len(wantHunks)
		for j := range min(len(gotHunks), len(wantHunks)) {
			sameBodies = sameBodies && slices.Equal(gotHunks[j].body, wantHunks[j].body)
		}
		switch {
		case got == want:
			aligned++
		case sameBodies:
			// The same lines with other numbers is the bug diff -u is
			// here to catch.
			t.Errorf("%s: hunk headers differ from diff -u's:\n%s", c.name, headerDiff(gotHunks, wantHunks))
		case !strings.HasPrefix(c.name, "random"):
			// Each of these has one obvious alignment.
			t.Errorf("%s: Diff differs from diff -u\n--- Diff:\n%s--- diff -u:\n%s", c.name, got, want)
		}
		if patch != "" {
			checkPatch(t, patch, dir, i, c, got)
		}
	}
	t.Logf("%d of %d diffs are byte for byte those of diff -u; the rest align repeated lines differently", aligned, len(cases))
}

// planDiff returns the diff of a plan with the one change.
func planDiff(c diffCase) string {
	ch := write.Change{File: render.File{Path: "f.txt", Data: []byte(c.new), Kind: render.Generated}, Status: c.status, Old: []byte(c.old)}
	if c.status == write.Create {
		ch.Old = nil
	}
	return (&write.Plan{Root: "/nonexistent", Changes: []write.Change{ch}}).Diff()
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exitCode returns a command's exit code, 0 for no error and -1 for an
// error that is not an exit.
func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return -1
}

// hunk is one hunk of a unified diff.
type hunk struct {
	header                                 string
	oldStart, oldCount, newStart, newCount int
	// body is the hunk's lines after the header, without their newlines.
	body []string
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)

// hunksOf parses a unified diff of one file. A count left out is 1.
func hunksOf(t *testing.T, d string) []hunk {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		t.Fatalf("diff does not start with --- and +++ lines:\n%s", d)
	}
	var hunks []hunk
	for _, l := range lines[2:] {
		m := hunkHeader.FindStringSubmatch(l)
		if m == nil {
			if len(hunks) == 0 {
				t.Fatalf("line %q before the first hunk header:\n%s", l, d)
			}
			h := &hunks[len(hunks)-1]
			h.body = append(h.body, l)
			continue
		}
		num := func(s string) int {
			if s == "" {
				return 1
			}
			n, _ := strconv.Atoi(s)
			return n
		}
		hunks = append(hunks, hunk{header: l, oldStart: num(m[1]), oldCount: num(m[2]), newStart: num(m[3]), newCount: num(m[4])})
	}
	return hunks
}

// checkHunks checks that each hunk's header agrees with its body and that
// the body's lines are the files' lines at the header's line numbers, so
// that a wrong number fails even where diff -u aligns differently.
func checkHunks(t *testing.T, c diffCase, d string) {
	t.Helper()
	oldLines, newLines := strings.SplitAfter(c.old, "\n"), strings.SplitAfter(c.new, "\n")
	// SplitAfter leaves an empty last element after a final newline, and
	// the empty file has no lines.
	if oldLines[len(oldLines)-1] == "" {
		oldLines = oldLines[:len(oldLines)-1]
	}
	if newLines[len(newLines)-1] == "" {
		newLines = newLines[:len(newLines)-1]
	}
	shift, oldEnd := 0, 0 // new line number minus old, after the hunks so far
	for _, h := range hunksOf(t, d) {
		// A hunk with no lines on a side names the line before it.
		oldFirst, newFirst := h.oldStart, h.newStart
		if h.oldCount == 0 {
			oldFirst++
		}
		if h.newCount == 0 {
			newFirst++
		}
		if oldFirst <= oldEnd {
			t.Errorf("%s: hunk %s overlaps the one before, which ends at old line %d:\n%s", c.name, h.header, oldEnd, d)
		}
		if newFirst-oldFirst != shift {
			t.Errorf("%s: hunk %s starts at new line %d, want %d: the hunks before it add %d lines:\n%s", c.name, h.header, newFirst, oldFirst+shift, shift, d)
		}
		o, n := oldFirst-1, newFirst-1
		var last byte // the kind of the line before, for "\ No newline"
		for _, l := range h.body {
			if l == `\ No newline at end of file` {
				switch {
				case (last == ' ' || last == '-') && (o != len(oldLines) || strings.HasSuffix(c.old, "\n")),
					(last == ' ' || last == '+') && (n != len(newLines) || strings.HasSuffix(c.new, "\n")):
					t.Errorf("%s: hunk %s says no newline after a line that has one:\n%s", c.name, h.header, d)
				}
				continue
			}
			kind, text := l[0], l[1:]
			last = kind
			if kind == ' ' || kind == '-' {
				if o >= len(oldLines) || strings.TrimSuffix(oldLines[o], "\n") != text {
					t.Errorf("%s: hunk %s: %q is not old line %d:\n%s", c.name, h.header, l, o+1, d)
					return
				}
				o++
			}
			if kind == ' ' || kind == '+' {
				if n >= len(newLines) || strings.TrimSuffix(newLines[n], "\n") != text {
					t.Errorf("%s: hunk %s: %q is not new line %d:\n%s", c.name, h.header, l, n+1, d)
					return
				}
				n++
			}
		}
		if o-(oldFirst-1) != h.oldCount || n-(newFirst-1) != h.newCount {
			t.Errorf("%s: hunk %s has %d old and %d new lines:\n%s", c.name, h.header, o-(oldFirst-1), n-(newFirst-1), d)
		}
		shift += h.newCount - h.oldCount
		oldEnd = oldFirst + h.oldCount - 1
	}
}

// checkPatch applies the diff to the old file with patch, and in reverse to
// the new file, with no fuzz and no offset allowed, and compares the results
// with the other file. Both ways are needed: going forward patch places a
// hunk by its old line number, and in reverse by its new one.
func checkPatch(t *testing.T, patch, dir string, i int, c diffCase, d string) {
	t.Helper()
	for _, way := range []struct {
		flag, from, want string
	}{
		{"--forward", "old", c.new},
		{"--reverse", "new", c.old},
	} {
		out := filepath.Join(dir, fmt.Sprintf("%d.patched%s", i, way.flag))
		cmd := exec.Command(patch, way.flag, "--batch", "--fuzz=0", "--reject-file=-", "--no-backup-if-mismatch",
			"-o", out, filepath.Join(dir, fmt.Sprintf("%d.%s", i, way.from)))
		cmd.Stdin = strings.NewReader(d)
		msg, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: patch %s: %v\n%s\n%s", c.name, way.flag, err, msg, d)
			continue
		}
		if bytes.Contains(msg, []byte("offset")) || bytes.Contains(msg, []byte("fuzz")) {
			t.Errorf("%s: patch %s had to move hunks, so their line numbers are wrong:\n%s\n%s", c.name, way.flag, msg, d)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != way.want {
			t.Errorf("%s: patch %s of the %s file gives %q, want %q:\n%s", c.name, way.flag, way.from, got, way.want, d)
		}
	}
}

// headerDiff shows two lists of hunk headers side by side.
func headerDiff(got, want []hunk) string {
	var b strings.Builder
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i].header
		}
		if i < len(want) {
			w = want[i].header
		}
		mark := " "
		if g != w {
			mark = "!"
		}
		fmt.Fprintf(&b, "%s Diff: %-24s diff -u: %s\n", mark, g, w)
	}
	return b.String()
}
