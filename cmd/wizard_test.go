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
// asks for help once, declines to customize, and confirms. It checks the
// files and projgen.yaml, then runs the equivalent command the wizard
// prints on a fresh copy of the module and checks that it writes the same
// bytes.
func TestWizard(t *testing.T) {
	dir := exampleModule(t)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		expectPrompt(t, c, "Pattern:")
		c.SendLine("")
		expectPrompt(t, c, "Events:")
		c.Send("?")
		expectPrompt(t, c, "The events the projection handles")
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
		expectPrompt(t, c, "Customize the package directory")
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
	sameAsFlags(t, dir, shown, "projgen new --aggregate installation --op Deleted=ignore --table github_installations --yes --dir "+dir)
}

// sameAsFlags checks the equivalent command the wizard showed: that it is
// want, and that on a fresh copy of the module it writes the bytes the
// wizard wrote in dir. The command must not need shell quoting.
func sameAsFlags(t *testing.T, dir, shown, want string) {
	t.Helper()
	m := regexp.MustCompile(`Equivalent command: (projgen new [^\r\n]*)`).FindStringSubmatch(shown)
	if m == nil {
		t.Fatalf("the wizard printed no equivalent command:\n%s", shown)
	}
	command := m[1]
	if command != want {
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
	got, flags := tree(t, dir), tree(t, again)
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

// flagPathError runs projgen new with flags and returns the first line of
// its message, without the "projgen: " prefix: what the wizard must show
// for the same bad answer.
func flagPathError(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if code := Execute(context.Background(), Build{GoMod: goModOf(t)}, append([]string{"new", "--dir", exampleModule(t), "--yes", "--no-test"}, args...), IO{Out: &out, Err: &out}); code != 2 {
		t.Fatalf("projgen new %s: exit %d, want 2\n%s", strings.Join(args, " "), code, &out)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	return strings.TrimPrefix(line, "projgen: ")
}

// TestWizardInvalidAnswer answers the table question with a name that is
// not a SQL name: the wizard refuses it with the flag path's message and
// asks again, and the run goes on with the next answer.
func TestWizardInvalidAnswer(t *testing.T) {
	want := flagPathError(t, "--aggregate", "installation", "--table", "1bad-name")
	dir := exampleModule(t)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		answerDefaults(t, c, "Aggregate:", "Table name:")
		c.SendLine("1bad-name")
		expectPrompt(t, c, want)
		expectPrompt(t, c, "Table name:")
		c.SendLine("good_name")
		answerDefaults(t, c, "Table name:", "Write these files and run go test?")
		c.SendLine("y")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("projgen new (wizard): exit %d\n%s", code, shown)
	}
	if !strings.Contains(shown, "Sorry, your reply was invalid: "+want) {
		t.Errorf("the wizard did not refuse 1bad-name with %q:\n%s", want, shown)
	}
	if yaml := tree(t, dir)["projgen.yaml"]; !strings.Contains(yaml, "table: good_name") {
		t.Errorf("projgen.yaml lacks the second answer, table good_name:\n%s", yaml)
	}
}

// prompts matches a question as survey shows it to be answered: the
// question mark, in colour, the question, and the hint for help, which it
// does not show again with the answer.
var prompts = regexp.MustCompile(`\? (?:\x1b\[[0-9;]*m)+[^\r\n]*for (more )?help\]`)

// answerDefaults answers every question with its default, until the
// question until. answered is the question answered last, which survey
// may show again, as it does while a list is filtered: it is not answered
// again.
func answerDefaults(t *testing.T, c *expect.Console, answered, until string) {
	t.Helper()
	for range 100 {
		out, err := c.Expect(expect.Regexp(prompts), expect.WithTimeout(30*time.Second))
		if err != nil {
			t.Errorf("waiting for %q: %v", until, err)
			return
		}
		m := prompts.FindAllString(out, -1)
		question := stripANSI(m[len(m)-1])
		switch {
		case strings.Contains(question, until):
			return
		case answered != "" && strings.Contains(question, answered):
			continue
		}
		c.SendLine("")
		answered = question
	}
	t.Errorf("no question %q", until)
}

// stripANSI removes the terminal's escape sequences from what it showed.
func stripANSI(s string) string {
	return regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`).ReplaceAllString(s, "")
}

// TestWizardInputHelp types ? on a text question: survey shows the help,
// which says what a valid answer is, and asks again; the ? does not become
// the answer.
func TestWizardInputHelp(t *testing.T) {
	dir := exampleModule(t)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		answerDefaults(t, c, "Aggregate:", "Table name:")
		c.SendLine("?")
		expectPrompt(t, c, "a plain SQL name of lower-case letters")
		expectPrompt(t, c, "Table name:")
		c.SendLine("")
		answerDefaults(t, c, "Table name:", "Write these files and run go test?")
		c.SendLine("y")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("projgen new (wizard): exit %d\n%s", code, shown)
	}
	if yaml := tree(t, dir)["projgen.yaml"]; !strings.Contains(yaml, "table: installations\n") {
		t.Errorf("projgen.yaml lacks the default table, installations:\n%s", yaml)
	}
}

// TestWizardOffersOnlyAggregatesAndEvents runs the wizard on a module that
// has a projection, and so the registry package and the runner main: the
// aggregate question lists neither, and the events question of the invoice
// aggregate lists its events and not the value types of their fields.
func TestWizardOffersOnlyAggregatesAndEvents(t *testing.T) {
	dir := exampleModule(t)
	var out bytes.Buffer
	if code := Execute(context.Background(), Build{GoMod: goModOf(t)}, []string{"new", "--aggregate", "installation", "--yes", "--no-test", "--dir", dir}, IO{Out: &out, Err: &out}); code != 0 {
		t.Fatalf("projgen new: exit %d\n%s", code, &out)
	}
	var aggregates, events string
	_, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		// The list is sorted: its last package shows that all of it did.
		list, _ := c.ExpectString("widget/endpoint")
		aggregates = stripANSI(list)
		c.Send("invoice")
		c.SendLine("")
		expectPrompt(t, c, "Pattern:")
		c.SendLine("")
		expectPrompt(t, c, "Events:")
		list, _ = c.Expect(expect.Regexp(regexp.MustCompile(`Voided[^\n]*\n`)), expect.WithTimeout(5*time.Second))
		events = stripANSI(list)
		interrupt(t, c)
	})
	for _, want := range []string{"example.com/registry/github/installation", "example.com/registry/billing/invoice"} {
		if !strings.Contains(aggregates, want) {
			t.Errorf("the aggregate question does not offer %s:\n%s", want, shown)
		}
	}
	for _, not := range []string{"example.com/registry/projections", "example.com/registry/cmd/projections"} {
		if strings.Contains(aggregates, not) {
			t.Errorf("the aggregate question offers %s, which is no aggregate:\n%s", not, aggregates)
		}
	}
	option := func(name string) bool { return regexp.MustCompile(`\[[ x]\]\s+` + name + `\b`).MatchString(events) }
	for _, want := range []string{"Issued", "Paid", "Voided"} {
		if !option(want) {
			t.Errorf("the events question does not offer %s:\n%s", want, events)
		}
	}
	for _, not := range []string{"Address", "Cents", "Status"} {
		if option(not) {
			t.Errorf("the events question offers %s, a value type of the events' fields:\n%s", not, events)
		}
	}
}

// interrupt presses Ctrl-C until projgen has gone. The prompt shows
// before survey reads the terminal, and a key that arrives in between can
// be lost on a loaded machine; a second one after the first has been read
// changes nothing, since projgen exits.
func interrupt(t *testing.T, c *expect.Console) {
	t.Helper()
	for range 30 {
		c.Send(string(rune(3))) // Ctrl-C
		if _, err := c.Expect(expect.EOF, expect.WithTimeout(2*time.Second)); err == nil {
			return
		}
	}
	t.Error("projgen did not exit after Ctrl-C")
}

// TestWizardDenormalizedExample makes the README's denormalized example,
// projgen new --aggregate installation --key RepositoryID --name
// github_repository --out github/repository, through the wizard: its
// equivalent command is the README's, and writes the same bytes.
func TestWizardDenormalizedExample(t *testing.T) {
	dir := exampleModule(t)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		expectPrompt(t, c, "Pattern:")
		c.Send("denormalized")
		c.SendLine("")
		expectPrompt(t, c, "Key field:")
		c.Send("RepositoryID")
		c.SendLine("")
		answerDefaults(t, c, "Key field:", "Projection name:")
		c.SendLine("github_repository")
		answerDefaults(t, c, "Projection name:", "Customize the package directory")
		c.SendLine("y")
		expectPrompt(t, c, "Package directory:")
		c.SendLine("github/repository")
		answerDefaults(t, c, "Package directory:", "Write these files and run go test?")
		c.SendLine("y")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("projgen new (wizard): exit %d\n%s", code, shown)
	}
	if _, ok := tree(t, dir)["github/repository/github_repository_projection_gen.go"]; !ok {
		t.Errorf("the wizard wrote nothing in github/repository:\n%s", shown)
	}
	sameAsFlags(t, dir, shown, "projgen new --aggregate installation --key RepositoryID --name github_repository --out github/repository --yes --dir "+dir)
}

// TestWizardCustomize changes an event's fields, a column, a method and
// a constant in the wizard: the equivalent command carries them as
// --fields, --column, --method and --set, and writes the same bytes.
func TestWizardCustomize(t *testing.T) {
	dir := exampleModule(t)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		answerDefaults(t, c, "Aggregate:", "Customize the package directory")
		c.SendLine("y")
		answerDefaults(t, c, "Customize the package directory", "Fields of Created:")
		c.Send("\x1b[B\x1b[B ") // down twice, and space: TenantID is no longer projected
		c.SendLine("")
		answerDefaults(t, c, "Fields of Created:", "Column of Created.AccountLogin:")
		c.SendLine("login")
		answerDefaults(t, c, "Column of Created.AccountLogin:", "Method for Created:")
		c.SendLine("InstallApp")
		answerDefaults(t, c, "Method for Created:", "Constants of Created:")
		c.SendLine("plan=free")
		answerDefaults(t, c, "Constants of Created:", "Write these files and run go test?")
		c.SendLine("y")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("projgen new (wizard): exit %d\n%s", code, shown)
	}
	sameAsFlags(t, dir, shown, "projgen new --aggregate installation --fields Created=InstallationID,AccountLogin "+
		"--column Created.AccountLogin=login --method Created=InstallApp --set Created.plan=free --yes --dir "+dir)
}

// TestWizardCrossAggregateExample makes the README's cross-aggregate
// example through the wizard: two aggregates, an event of each, and one
// field of each event.
func TestWizardCrossAggregateExample(t *testing.T) {
	const left, down = "\x1b[D", "\x1b[B"
	dir := exampleModule(t)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("endpoint")
		c.SendLine("")
		expectPrompt(t, c, "Pattern:")
		c.Send("cross")
		c.SendLine("")
		expectPrompt(t, c, "Other aggregates:")
		c.Send("installation ")
		c.SendLine("")
		expectPrompt(t, c, "Events:")
		c.Send(left + " " + down + down + down + " ") // none, then endpoint.Created and installation.Created
		c.SendLine("")
		answerDefaults(t, c, "Events:", "Projection name:")
		c.SendLine("tenant_activity")
		answerDefaults(t, c, "Projection name:", "Customize the package directory")
		c.SendLine("y")
		answerDefaults(t, c, "Customize the package directory", "Fields of endpoint.Created:")
		c.Send(left + " ") // TenantID only
		c.SendLine("")
		answerDefaults(t, c, "Fields of endpoint.Created:", "Fields of installation.Created:")
		c.Send(left + down + down + " ") // TenantID only
		c.SendLine("")
		answerDefaults(t, c, "Fields of installation.Created:", "Write these files and run go test?")
		c.SendLine("y")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("projgen new (wizard): exit %d\n%s", code, shown)
	}
	sameAsFlags(t, dir, shown, "projgen new --aggregate endpoint --aggregate installation --events endpoint.Created,installation.Created "+
		"--name tenant_activity --fields endpoint.Created=TenantID --fields installation.Created=TenantID --yes --dir "+dir)
}

// TestWizardDeclined answers no to writing: the wizard still prints the
// equivalent command, and writes nothing.
func TestWizardDeclined(t *testing.T) {
	dir := exampleModule(t)
	before := tree(t, dir)
	code, shown := runInTerminal(t, []string{"new", "--dir", dir, "--no-test"}, func(c *expect.Console) {
		expectPrompt(t, c, "Aggregate:")
		c.Send("installation")
		c.SendLine("")
		answerDefaults(t, c, "Aggregate:", "Table name:")
		c.SendLine("github_installations")
		answerDefaults(t, c, "Table name:", "Write these files and run go test?")
		c.SendLine("n")
		c.ExpectEOF()
	})
	if code != 0 {
		t.Fatalf("projgen new (wizard), declined: exit %d\n%s", code, shown)
	}
	if !strings.Contains(shown, "Equivalent command: projgen new --aggregate installation --table github_installations --yes --dir "+dir) {
		t.Errorf("no equivalent command after no:\n%s", shown)
	}
	if !strings.Contains(shown, "nothing was written") {
		t.Errorf("no word that nothing was written:\n%s", shown)
	}
	after := tree(t, dir)
	if len(after) != len(before) {
		t.Errorf("declining left %d files, want the %d there were", len(after), len(before))
	}
	for path, data := range before {
		if after[path] != data {
			t.Errorf("%s changed after declining", path)
		}
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
		expectPrompt(t, c, "Pattern:")
		c.SendLine("")
		expectPrompt(t, c, "Events:")
		interrupt(t, c)
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
