package model_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

const (
	installationPath = modulePath + "/github/installation"
	orderPath        = modulePath + "/shop/order"
)

// newProjection runs model.NewProjection for one aggregate of
// testModule with a new configuration, whose topics template is topics
// when not empty.
func newProjection(t *testing.T, dir, topics string, ch model.Choices) (config.Projection, error) {
	t.Helper()
	mod, pkgs := loadModule(t, dir)
	cfg := config.New()
	if topics != "" {
		cfg.Topics = topics
	}
	return model.NewProjection(mod, cfg, []*load.Package{pkgs[modulePath+"/"+dir]}, ch)
}

// newProjectionOK is newProjection failing the test on an error, and
// checking that the result is a valid projgen.yaml entry.
func newProjectionOK(t *testing.T, dir, topics string, ch model.Choices) config.Projection {
	t.Helper()
	p, err := newProjection(t, dir, topics, ch)
	if err != nil {
		t.Fatalf("NewProjection: %v", err)
	}
	cfg := config.New()
	cfg.Projections = []config.Projection{p}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the new projection does not validate: %v\n%+v", err, p)
	}
	return p
}

// sameEvents compares events one by one, for readable failures.
func sameEvents(t *testing.T, got, want []config.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d events, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
		return
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestNewProjectionInstallation(t *testing.T) {
	t.Parallel()
	p := newProjectionOK(t, "github/installation", "", model.Choices{})
	want := config.Projection{
		Name:       "installation",
		Pattern:    config.Simple,
		Aggregates: []string{installationPath},
		Dir:        "github/installation",
		Table:      "installations",
		Key:        config.Key{Column: "aggregate_id", From: config.KeyAggregate, Type: "uuid"},
	}
	got := p
	got.Events = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("projection:\n got %+v\nwant %+v", got, want)
	}
	sameEvents(t, p.Events, []config.Event{
		{Type: "Created", Op: config.Insert, Method: "CreateInstallation"},
		{Type: "Suspended", Op: config.Set, Method: "SuspendInstallation", Set: map[string]any{"is_suspended": true}},
		{Type: "Unsuspended", Op: config.Set, Method: "UnsuspendInstallation", Set: map[string]any{"is_suspended": false}},
		// A child entity's event in a table keyed by the aggregate.
		{Type: "RepositoryAdded", Op: config.Ignore},
		{Type: "RepositoryRemoved", Op: config.Ignore},
		{Type: "Deleted", Op: config.Delete, Method: "DeleteInstallation"},
	})
}

func TestNewProjectionOrder(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "shop/order", "", model.Choices{})
		if p.Name != "order" || p.Table != "orders" || p.Dir != "shop/order" {
			t.Errorf("name, table, dir = %q, %q, %q", p.Name, p.Table, p.Dir)
		}
		// Order.ID is a string.
		if want := (config.Key{Column: "aggregate_id", From: config.KeyAggregate, Type: "text"}); p.Key != want {
			t.Errorf("key = %+v, want %+v", p.Key, want)
		}
		sameEvents(t, p.Events, []config.Event{
			// No event inserts by its name, so the first one does.
			{Type: "Placed", Topic: "order.placed", Op: config.Insert, Method: "PlaceOrder"},
			{Type: "Shipped", Topic: "order.shipped", Op: config.Update, Method: "ShipOrder"},
			{Type: "Cancelled", Op: config.Set, Method: "CancelOrder", Set: map[string]any{"is_cancelled": true}},
		})
	})
	t.Run("topics template", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "shop/order", "{{.Package}}:{{.Type}}", model.Choices{})
		var topics []string
		for _, e := range p.Events {
			topics = append(topics, e.Topic)
		}
		// The source's topics are recorded; the others come from the
		// template at every generate (TestBuildTopicsTemplate).
		if want := []string{"order.placed", "order.shipped", ""}; !reflect.DeepEqual(topics, want) {
			t.Errorf("topics = %q, want %q", topics, want)
		}
	})
	t.Run("events chosen, others ignored", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "shop/order", "", model.Choices{Events: []string{"Placed", "Shipped"}})
		sameEvents(t, p.Events, []config.Event{
			{Type: "Placed", Topic: "order.placed", Op: config.Insert, Method: "PlaceOrder"},
			{Type: "Shipped", Topic: "order.shipped", Op: config.Update, Method: "ShipOrder"},
			{Type: "Cancelled", Op: config.Ignore},
		})
	})
	t.Run("chosen op kept", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "shop/order", "", model.Choices{Ops: map[string]string{"Placed": config.Update}})
		if p.Events[0].Op != config.Update {
			t.Errorf("Placed op = %s, want the chosen update", p.Events[0].Op)
		}
		// A table keyed by aggregate still needs an insert: the first
		// event whose operation was not chosen.
		if p.Events[1].Op != config.Insert {
			t.Errorf("Shipped op = %s, want insert", p.Events[1].Op)
		}
	})
	t.Run("chosen method and condition", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "shop/order", "", model.Choices{
			Methods: map[string]string{"Shipped": "MarkShipped"},
			When:    map[string]string{"Placed": "Total > 100"},
		})
		if p.Pattern != config.Filtered {
			t.Errorf("pattern = %s, want filtered (a condition was given)", p.Pattern)
		}
		if p.Events[1].Method != "MarkShipped" || p.Events[0].When != "Total > 100" {
			t.Errorf("events = %+v", p.Events)
		}
	})
}

func TestNewProjectionChoices(t *testing.T) {
	t.Parallel()
	t.Run("op choice kept", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "github/installation", "", model.Choices{Ops: map[string]string{"Suspended": config.Update}})
		want := config.Event{Type: "Suspended", Op: config.Update, Method: "SuspendInstallation"}
		if !reflect.DeepEqual(p.Events[1], want) {
			t.Errorf("Suspended = %+v, want %+v", p.Events[1], want)
		}
	})
	t.Run("name and table", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "github/installation", "", model.Choices{Name: "github_install"})
		if p.Name != "github_install" || p.Table != "github_installs" {
			t.Errorf("name, table = %q, %q; want github_install, github_installs", p.Name, p.Table)
		}
	})
	t.Run("denormalized", func(t *testing.T) {
		t.Parallel()
		p := newProjectionOK(t, "github/installation", "", model.Choices{KeyField: "RepositoryID"})
		if p.Pattern != config.Denormalized || p.Name != "repository" || p.Table != "repositories" || p.Dir != "github/installation" {
			t.Errorf("pattern, name, table, dir = %q, %q, %q, %q", p.Pattern, p.Name, p.Table, p.Dir)
		}
		// RepositoryID is an int64, unique perhaps only within its
		// installation: rows are keyed by both.
		if want := (config.Key{Column: "repository_id", From: config.KeyField, Field: "RepositoryID", Scope: config.ScopeAggregate}); p.Key != want {
			t.Errorf("key = %+v, want %+v", p.Key, want)
		}
		sameEvents(t, p.Events, []config.Event{
			// The events that carry the key field are handled, and the
			// installation's deletion deletes its repositories.
			{Type: "RepositoryAdded", Op: config.Insert, Method: "AddRepository"},
			{Type: "RepositoryRemoved", Op: config.Delete, Method: "RemoveRepository"},
			{Type: "Deleted", Op: config.Delete, Method: "DeleteInstallation"},
			{Type: "Created", Op: config.Ignore},
			{Type: "Suspended", Op: config.Ignore},
			{Type: "Unsuspended", Op: config.Ignore},
		})
	})
}

func TestNewProjectionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ch   model.Choices
		msg  []string
	}{
		{"unknown event in Ops", model.Choices{Ops: map[string]string{"Nope": config.Insert}},
			[]string{"Nope is not one of the projected events", "Created, Suspended"}},
		{"unknown event in Methods", model.Choices{Methods: map[string]string{"Nope": "DoIt"}},
			[]string{"Nope is not one of the projected events"}},
		{"event not chosen in Ops", model.Choices{Events: []string{"Created"}, Ops: map[string]string{"Deleted": config.Delete}},
			[]string{"Deleted is not one of the projected events"}},
		{"unknown op", model.Choices{Ops: map[string]string{"Created": "upsert"}},
			[]string{`unknown operation "upsert"`}},
		{"missing event", model.Choices{Events: []string{"Missing"}},
			[]string{"has no type Missing"}},
		{"key field nobody carries", model.Choices{KeyField: "Nothing"},
			[]string{"carries the key field Nothing"}},
		{"unknown pattern", model.Choices{Pattern: "fancy"},
			[]string{`unknown pattern "fancy"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newProjection(t, "github/installation", "", tt.ch)
			if err == nil {
				t.Fatal("NewProjection accepted it")
			}
			if !diag.IsInput(err) {
				t.Errorf("diag.IsInput(%v) = false", err)
			}
			full := err.Error()
			for _, m := range tt.msg {
				if !strings.Contains(full, m) {
					t.Errorf("error %q does not say %q", full, m)
				}
			}
		})
	}
}

// TestNewProjectionMeaning checks the defaults a careful developer would
// write: state changes map onto the columns that hold that state, an
// event about a child entity that carries aggregate state updates it,
// and every ignored event comes with why and how to project it.
func TestNewProjectionMeaning(t *testing.T) {
	t.Parallel()
	mod, pkgs := loadModule(t, "shop/widget")
	p, ignored, err := model.NewProjectionExplained(mod, config.New(), []*load.Package{pkgs[modulePath+"/shop/widget"]}, model.Choices{})
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]config.Event{}
	for _, e := range p.Events {
		byType[e.Type] = e
	}
	if got := byType["Activated"].Set; !reflect.DeepEqual(got, map[string]any{"is_active": true}) {
		t.Errorf("Activated sets %v, want is_active = true, the column Created's IsActive fills", got)
	}
	if got := byType["Deactivated"].Set; !reflect.DeepEqual(got, map[string]any{"is_active": false}) {
		t.Errorf("Deactivated sets %v, want is_active = false", got)
	}
	if got := byType["Renamed"].Columns; !reflect.DeepEqual(got, map[string]string{"Renamed": "name"}) {
		t.Errorf("Renamed writes columns %v, want its payload in name", got)
	}
	if e := byType["LineAdded"]; e.Op != config.Update || !reflect.DeepEqual(e.Fields, []string{"TotalCents"}) {
		t.Errorf("LineAdded = %s of fields %v, want an update of TotalCents, the widget's state it carries", e.Op, e.Fields)
	}
	if len(ignored) != 0 {
		t.Errorf("ignored %+v, want none", ignored)
	}

	mod, pkgs = loadModule(t, "github/installation")
	_, ignored, err = model.NewProjectionExplained(mod, config.New(), []*load.Package{pkgs[installationPath]}, model.Choices{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ignored) != 2 {
		t.Fatalf("ignored %+v, want RepositoryAdded and RepositoryRemoved", ignored)
	}
	for _, ig := range ignored {
		if !strings.Contains(ig.Reason, "child entity") || !strings.Contains(ig.Project, "--key RepositoryID") {
			t.Errorf("ignored %+v: want the reason, a child entity, and the command with --key RepositoryID", ig)
		}
	}
}

// TestNewProjectionListedEvents projects every event the user lists, even
// one the rules for found events take for a child entity's, and refuses a
// program as an aggregate.
func TestNewProjectionListedEvents(t *testing.T) {
	t.Parallel()
	p := newProjectionOK(t, "github/installation", "", model.Choices{Events: []string{"Created", "RepositoryAdded"}})
	for _, e := range p.Events {
		if e.Type == "RepositoryAdded" && e.Op != config.Insert {
			t.Errorf("listed RepositoryAdded: op %s, want insert", e.Op)
		}
	}
	mod, pkgs := loadModule(t, "cmd/tool")
	_, err := model.NewProjection(mod, config.New(), []*load.Package{pkgs[modulePath+"/cmd/tool"]}, model.Choices{})
	if err == nil || !strings.Contains(err.Error(), "package main") {
		t.Errorf("NewProjection of a program = %v, want an error saying it is one", err)
	}
}

// TestNewProjectionCreationStyles takes the creation and deletion events
// of other libraries' styles for the aggregate's own, and keeps the
// child-entity rule for an event that carries the child's ID.
func TestNewProjectionCreationStyles(t *testing.T) {
	t.Parallel()
	p := newProjectionOK(t, "shop/member", "", model.Choices{})
	want := map[string]string{
		"WasCreated":        config.Insert,
		"InviteCreatedData": config.Insert,
		"AddressAdded":      config.Ignore,
		"WasDeleted":        config.Delete,
	}
	for _, e := range p.Events {
		if w, ok := want[e.Type]; ok && e.Op != w {
			t.Errorf("%s: op %s, want %s", e.Type, e.Op, w)
		}
	}
}

// TestNewProjectionCollectionsAndIDs shows the two narrower rules: an
// event that adds to a collection the aggregate holds (Items, Tags) is a
// child's or a value's, whatever it carries, and passive names
// (ItemWasAdded) read as what happened; and when no name creates, the
// first event that carries the aggregate's ID (BasketID) inserts, rather
// than the first event.
func TestNewProjectionCollectionsAndIDs(t *testing.T) {
	t.Parallel()
	p := newProjectionOK(t, "shop/basket", "", model.Choices{})
	want := map[string]string{
		"Touched":       config.Update,
		"Opening":       config.Insert,
		"ItemWasAdded":  config.Ignore,
		"TagsWereAdded": config.Ignore,
	}
	for _, e := range p.Events {
		if w := want[e.Type]; e.Op != w {
			t.Errorf("%s: op %s, want %s", e.Type, e.Op, w)
		}
	}
}
