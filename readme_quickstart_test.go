package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeQuickStart runs the README's quick start as it is, in bash,
// from this checkout, with DATABASE_URL on a schema of its own: projgen
// new on the bundled example, then the next steps. The last command must
// show the installation's row, and the next steps in the README must be
// the ones projgen new printed.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs projgen new, go run and psql")
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("skipping: the quick start needs psql, which is not installed")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Quick start: from `new` to a row.*?```sh\n(.*?)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md: no section \"Quick start: from `new` to a row\" with an sh block")
	}
	block := string(m[1])
	// psql takes the schema as a startup option, not as search_path=.
	url := regexp.MustCompile(`search_path=(\w+)`).ReplaceAllString(freshSchema(t), "options=-csearch_path%3D$1")
	c := exec.Command("bash", "-e", "-c", block)
	c.Env = append(os.Environ(), "DATABASE_URL="+url, "PROJGEN_TEST_DATABASE_URL="+databaseURL())
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("the quick start failed (%s): %v\n%s", psql, err, out)
	}
	output := string(out)
	if !strings.Contains(output, "0b6f1c2e-4d1a-4c7e-9f3e-2a5b8c9d0e1f |                 1 |") || !strings.Contains(output, "(1 row)") {
		t.Fatalf("the quick start's last command shows no row of the installation:\n%s", output)
	}
	_, printed, ok := strings.Cut(output, "next steps, to see a row in installations:\n")
	if !ok {
		t.Fatalf("projgen new printed no next steps:\n%s", output)
	}
	var steps []string
	for _, line := range strings.Split(printed, "\n") {
		step, ok := strings.CutPrefix(line, "  ")
		if !ok {
			break
		}
		if !strings.HasPrefix(step, "cd ") {
			steps = append(steps, step)
		}
	}
	lines := strings.Split(block, "\n")
	if len(lines) < 2 || lines[1] != `cd "$d"` || !slices.Equal(lines[2:], steps) {
		t.Errorf("the README's next steps are not the ones projgen new printed:\nREADME:\n%s\nprinted:\n%s",
			strings.Join(lines, "\n"), strings.Join(steps, "\n"))
	}
}
