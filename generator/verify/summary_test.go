package verify

import (
	"slices"
	"strings"
	"testing"
)

// TestSummarize reads go test -json output as go 1.26 writes it: counts
// of top-level tests, the reasons of the skipped ones, and the plain
// output, build errors included.
func TestSummarize(t *testing.T) {
	jsonOut := strings.Join([]string{
		`{"Action":"start","Package":"m/a"}`,
		`{"Action":"run","Package":"m/a","Test":"TestA"}`,
		`{"Action":"output","Package":"m/a","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"run","Package":"m/a","Test":"TestA/sub"}`,
		`{"Action":"pass","Package":"m/a","Test":"TestA/sub"}`,
		`{"Action":"pass","Package":"m/a","Test":"TestA"}`,
		`{"Action":"output","Package":"m/a","Test":"TestDB","Output":"    a_test.go:18: skipping database test: set PROJGEN_TEST_DATABASE_URL to run it\n"}`,
		`{"Action":"output","Package":"m/a","Test":"TestDB","Output":"--- SKIP: TestDB (0.00s)\n"}`,
		`{"Action":"skip","Package":"m/a","Test":"TestDB"}`,
		`{"Action":"output","Package":"m/a","Test":"TestDB2","Output":"    a_test.go:40: skipping database test: set PROJGEN_TEST_DATABASE_URL to run it\n"}`,
		`{"Action":"skip","Package":"m/a","Test":"TestDB2"}`,
		`{"Action":"output","Package":"m/a","Test":"TestSlow","Output":"    a_test.go:50: slow\n"}`,
		`{"Action":"output","Package":"m/a","Test":"TestSlow","Output":"--- SKIP: TestSlow (0.00s)\n"}`,
		`{"Action":"skip","Package":"m/a","Test":"TestSlow"}`,
		`{"ImportPath":"m/b","Action":"build-output","Output":"b/b.go:3:1: syntax error\n"}`,
		`{"Action":"output","Package":"m/a","Output":"ok  \tm/a\t0.01s\n"}`,
		`not json at all`,
	}, "\n")
	var r TestResult
	r.summarize([]byte(jsonOut))
	if r.Passed != 1 || r.Skipped != 3 {
		t.Errorf("passed, skipped = %d, %d; want 1, 3 (top-level tests only)", r.Passed, r.Skipped)
	}
	want := []string{"skipping database test: set PROJGEN_TEST_DATABASE_URL to run it", "slow"}
	if !slices.Equal(r.SkipReasons, want) {
		t.Errorf("skip reasons = %q, want %q", r.SkipReasons, want)
	}
	for _, s := range []string{"=== RUN   TestA\n", "b/b.go:3:1: syntax error\n", "ok  \tm/a\t0.01s\n", "not json at all\n"} {
		if !strings.Contains(r.Output, s) {
			t.Errorf("plain output lacks %q:\n%s", s, r.Output)
		}
	}
}
