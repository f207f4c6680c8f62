package cmd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/aymanbagabas/go-udiff"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
	"golang.org/x/term"

	"github.com/projgen/projgen/internal/moduletest"
)

// repoRoot is the root of this repository, two levels up from cmd/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// exampleModule copies testdata/registry into a temporary directory, with
// its runtime requirement pointed at this repository.
func exampleModule(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	return moduletest.Copy(t, root, filepath.Join(root, "testdata", "registry"))
}

// tree reads every file under dir by relative path.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	return moduletest.Tree(t, dir)
}

// syncBuffer is a buffer safe to write from the console's goroutine and
// read from the test's.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runWizard runs projgen with args on a pseudo-terminal, rendered by a
// virtual terminal (vt10x) as a user's would be, while answer plays the
// user's part through the console. It returns the exit code and what the
// terminal showed.
func runInTerminal(t *testing.T, args []string, answer func(c *expect.Console)) (int, string) {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	// survey shows a question before it puts the terminal in raw mode:
	// keys sent in between would reach it cooked, an Enter as a newline it
	// does not take. A terminal raw from the start removes that race.
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		t.Fatalf("raw mode: %v", err)
	}
	var shown syncBuffer
	term := vt10x.New(vt10x.WithWriter(tty))
	c, err := expect.NewConsole(expect.WithStdin(ptm), expect.WithStdout(term, &shown),
		expect.WithCloser(ptm, tty), expect.WithDefaultTimeout(time.Minute))
	if err != nil {
		t.Fatalf("console: %v", err)
	}
	defer c.Close()
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		answer(c)
	}()
	result := make(chan int, 1)
	go func() {
		result <- Execute(context.Background(), Build{GoMod: goModOf(t)}, args, IO{In: c.Tty(), Out: c.Tty(), Err: c.Tty(), Terminal: true})
	}()
	var code int
	select {
	case code = <-result:
	case <-answered:
		// The user has given every answer: projgen must finish. If a
		// question is still waiting, closing the terminal ends it, and the
		// test fails on what was shown rather than hanging.
		select {
		case code = <-result:
		case <-time.After(2 * time.Minute):
			t.Errorf("projgen still waits for input after the last answer:\n%s", shown.String())
			c.Tty().Close()
			code = <-result
		}
	}
	if err := c.Tty().Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Errorf("close the terminal: %v", err)
	}
	<-answered
	return code, shown.String()
}

// goModOf reads projgen's go.mod, which main embeds.
func goModOf(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// expectPrompt waits for a question, failing the test when it does not come.
func expectPrompt(t *testing.T, c *expect.Console, prompt string) {
	t.Helper()
	if _, err := c.ExpectString(prompt); err != nil {
		t.Errorf("waiting for %q: %v", prompt, err)
	}
}

// TestWizard drives projgen new's wizard end to end through a
// pseudo-terminal: it picks the installation aggregate by typing to filter,
// keeps the preselected events, changes one operation and the table name,
// asks for help once, and confirms. It checks the files and projgen.yaml,
// then runs the equivalent command the wizard prints on a fresh copy of the
// module and checks that it writes the same bytes.
func TestWizard(t *testing.T) {
	dir := exampleModule(t)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		expectPrompt(t, c, "Events:")
		c.Send("?")
		expectPrompt(t, c, "The events the projection handles")
		c.SendLine("")
		expectPrompt(t, c, "Pattern:")
		c.SendLine("")
		for _, event := range []string{"Created", "Suspended", "Unsuspended"} {
			expectPrompt(t, c, "Operation for "+event+":")
			c.SendLine("")
		}
		expectPrompt(t, c, "Operation for Deleted:")
		c.Send("ignore")
		c.SendLine("")
		expectPrompt(t, c, "Projection name:")
		c.SendLine("")
		expectPrompt(t, c, "Table name:")
		c.SendLine("github_installations")
		expectPrompt(t, c, "Key column:")
		c.SendLine("")
		expectPrompt(t, c, "Write these files and run go test?")
		c.SendLine("y")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("projgen new (wizard): exit %d\n%s", code, shown)
	}
	got := tree(t, dir)
	for _, f := range []string{
		"github/installation/installation_read_model_gen.go",
		"github/installation/installation_projection_gen.go",
		"github/installation/installation_postgres_gen.go",
		"github/installation/migrations/000001_create_github_installations.up.sql",
		"projections/projections_gen.go",
	} {
		if _, ok := got[f]; !ok {
			t.Errorf("the wizard did not write %s", f)
		}
	}
	yaml := got["projgen.yaml"]
	for _, want := range []string{"table: github_installations", "- type: Deleted\n        op: ignore", "method: SuspendInstallation"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("projgen.yaml lacks %q:\n%s", want, yaml)
		}
	}

	// Every ignored event is shown, with why.
	for _, want := range []string{"ignored   Deleted: --op Deleted=ignore", "ignored   RepositoryAdded: it changes a"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the wizard did not show %q:\n%s", want, shown)
		}
	}

	m := regexp.MustCompile(`Equivalent command: (projgen new [^\r\n]*)`).FindStringSubmatch(shown)
	if m == nil {
		t.Fatalf("the wizard printed no equivalent command:\n%s", shown)
	}
	command := m[1]
	if want := "projgen new --aggregate installation --op Deleted=ignore --table github_installations --yes --dir " + dir; command != want {
		t.Errorf("equivalent command:\n got %s\nwant %s", command, want)
	}
	args := strings.Fields(command)[1:]
	again := exampleModule(t)
	for i, a := range args {
		if a == dir {
			args[i] = again
		}
	}
	var out bytes.Buffer
	if code := Execute(context.Background(), Build{GoMod: goModOf(t)}, append(args, "--no-test"), IO{Out: &out, Err: &out}); code != 0 {
		t.Fatalf("%s: exit %d\n%s", command, code, &out)
	}
	flags := tree(t, again)
	for path, data := range got {
		if path == "go.mod" || path == "go.sum" {
			continue
		}
		if flags[path] != data {
			t.Errorf("%s differs between the wizard and the equivalent command:\n%s", path, udiff.Unified("wizard", "flags", data, flags[path]))
		}
	}
	if len(flags) != len(got) {
		t.Errorf("the wizard wrote %d files, the equivalent command %d", len(got), len(flags))
	}
}

// TestWizardInterrupted presses Ctrl-C midway: projgen exits with 130 and
// writes nothing.
func TestWizardInterrupted(t *testing.T) {
	dir := exampleModule(t)
	before := tree(t, dir)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("endpoint")
		c.SendLine("")
		expectPrompt(t, c, "Events:")
		c.SendLine("")
		expectPrompt(t, c, "Pattern:")
		// The prompt shows before survey reads the terminal, and a key
		// that arrives in between can be lost on a loaded machine: send
		// Ctrl-C again until projgen has gone. A second one after the
		// first has been read changes nothing, since projgen exits.
		for range 30 {
			c.Send(string(rune(3))) // Ctrl-C
			if _, err := c.Expect(expect.EOF, expect.WithTimeout(2*time.Second)); err == nil {
				return
			}
		}
		t.Error("projgen did not exit after Ctrl-C")
	})
	if code != ExitInterrupted {
		t.Fatalf("exit %d after Ctrl-C, want %d\n%s", code, ExitInterrupted, shown)
	}
	if !strings.Contains(shown, "interrupted; nothing was written") {
		t.Errorf("no message after Ctrl-C:\n%s", shown)
	}
	after := tree(t, dir)
	if len(after) != len(before) {
		t.Errorf("Ctrl-C left %d files, want the %d there were", len(after), len(before))
	}
	for path, data := range before {
		if after[path] != data {
			t.Errorf("%s changed after Ctrl-C", path)
		}
	}
}

// TestWizardExistingProjection runs the wizard on an aggregate that has a
// projection: it offers a second one or a re-run, and a re-run changes no
// byte.
func TestWizardExistingProjection(t *testing.T) {
	dir := exampleModule(t)
	var out bytes.Buffer
	if code := Execute(context.Background(), Build{GoMod: goModOf(t)}, []string{"new", "--aggregate", "installation", "--yes", "--no-test", "--dir", dir}, IO{Out: &out, Err: &out}); code != 0 {
		t.Fatalf("projgen new: exit %d\n%s", code, &out)
	}
	before := tree(t, dir)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		expectPrompt(t, c, "installation already has a projection. What now?")
		expectPrompt(t, c, "Re-run projection installation")
		c.Send("re-run")
		c.SendLine("")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, shown)
	}
	if !strings.Contains(shown, "Equivalent command: projgen generate --dir "+dir) {
		t.Errorf("a re-run should print the equivalent projgen generate:\n%s", shown)
	}
	after := tree(t, dir)
	for path, data := range before {
		if after[path] != data {
			t.Errorf("%s changed on a re-run", path)
		}
	}
}
