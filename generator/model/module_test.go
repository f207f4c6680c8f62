package model_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/projgen/projgen/generator/load"
)

func TestMain(m *testing.M) {
	// The go command must not reach the network, nor pick up a go.work
	// above the temporary directories, nor switch toolchains.
	for k, v := range map[string]string{"GOPROXY": "off", "GOWORK": "off", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"} {
		os.Setenv(k, v)
	}
	os.Exit(m.Run())
}

// modulePath is the module path of the throwaway modules of these tests.
const modulePath = "example.com/m"

// testModule is a module of aggregate packages written by hand, with
// standard-library imports only.
var testModule = map[string]string{
	// The installation aggregate of the seed guide: a [16]byte ID, so
	// its key is uuid; events found in events.go.
	"github/installation/installation.go": `package installation

// Installation is the aggregate.
type Installation struct {
	ID      [16]byte
	Version int64
}
`,
	"github/installation/events.go": `package installation

type Created struct {
	InstallationID int64
	AccountLogin   string
	TenantID       string
}

type Suspended struct{}

type Unsuspended struct{}

type RepositoryAdded struct {
	RepositoryID   int64
	RepositoryName string
}

type RepositoryRemoved struct {
	RepositoryID int64
}

type Deleted struct{}
`,
	// An order with a string ID, no Created event, and topics given by
	// markers (except for Cancelled).
	"shop/order/order.go": `package order

type Order struct{ ID string }

//projgen:event order.placed
type Placed struct{ Total int64 }

//projgen:event order.shipped
type Shipped struct{ Carrier string }

//projgen:event
type Cancelled struct{}
`,
	// An account for Build: nullable and NOT NULL columns, a field named
	// like a bookkeeping column, a flag set by a constant.
	"bank/account/account.go": `package account

import "time"

type Account struct{ ID string }

type Opened struct {
	Owner     string
	Plan      string
	Note      *string
	CreatedAt time.Time
	Tags      []string
}

type Imported struct {
	Owner string
}

type Renamed struct {
	Owner    string
	Nickname string
}

type Frozen struct{}

type Closed struct{}
`,
	// Two events give one column two SQL types.
	"bank/conflict/conflict.go": `package conflict

type Opened struct{ Level int64 }

type Changed struct{ Level string }
`,
	// The user already declares a name the projection would generate.
	// The meaning a careful developer would write: Activated and
	// Deactivated switch the is_active that Created fills, Renamed changes
	// name, and LineAdded, about a line, carries the widget's new total.
	"shop/widget/events.go": `package widget

//projgen:event
type Created struct {
	Name       string
	IsActive   bool
	TotalCents int64
}

//projgen:event
type Activated struct{}

//projgen:event
type Deactivated struct{}

//projgen:event
type Renamed string

//projgen:event
type LineAdded struct {
	LineID     int64
	TotalCents int64
}
`,
	// Creation in the styles of other libraries: WasCreated and
	// InviteCreatedData create the member; AddressAdded, which carries
	// the address's ID, is about a child.
	"shop/member/events.go": `package member

//projgen:event
type WasCreated struct{ Name string }

//projgen:event
type InviteCreatedData struct{ Email string }

//projgen:event
type AddressAdded struct {
	AddressID int64
	Street    string
}

//projgen:event
type WasDeleted struct{}
`,
	// A passive style with collections on the aggregate, and a creation
	// event only the aggregate's ID marks.
	"shop/basket/basket.go": `package basket

// Basket holds items and tags.
type Basket struct {
	ID    string
	Items []string
	Tags  map[string]bool
}

//projgen:event
type Touched struct{ At string }

//projgen:event
type Opening struct {
	BasketID string
	Owner    string
}

//projgen:event
type ItemWasAdded struct{ SKU string }

//projgen:event
type TagsWereAdded []string
`,
	// A program is never an aggregate.
	"cmd/tool/main.go": `package main

type Started struct{ At string }

func main() {}
`,
	"bank/clash/clash.go": `package clash

type Opened struct{ Owner string }

// ClashProjection is the user's own.
type ClashProjection struct{}
`,
}

// loadModule writes testModule into a temporary directory and loads the
// packages at the given paths (relative to the module root).
func loadModule(t *testing.T, dirs ...string) (*load.Module, map[string]*load.Package) {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{"go.mod": "module " + modulePath + "\n\ngo 1.26\n"}
	for name, src := range testModule {
		files[name] = src
	}
	for name, src := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mod, err := load.ReadModule(root)
	if err != nil {
		t.Fatalf("ReadModule: %v", err)
	}
	var paths []string
	for _, d := range dirs {
		paths = append(paths, modulePath+"/"+d)
	}
	pkgs, err := load.Load(context.Background(), mod.Dir, paths)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	out := map[string]*load.Package{}
	for _, p := range pkgs {
		out[p.Path] = p
	}
	return mod, out
}
