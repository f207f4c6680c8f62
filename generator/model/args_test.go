package model

import (
	"fmt"
	"testing"

	"github.com/projgen/projgen/generator/load"
)

// TestArgsStruct checks the threshold past which a read-model method takes
// its values in a struct, and the struct's names.
func TestArgsStruct(t *testing.T) {
	for n := range MaxPositionalParams + 3 {
		m := &Method{Name: "IssueInvoice"}
		for i := range n {
			f := &load.Field{Name: fmt.Sprintf("Field%d", i)}
			m.Params = append(m.Params, &Param{Name: fmt.Sprintf("field%d", i), Field: f})
		}
		argsStruct(m)
		if wantStruct := n > MaxPositionalParams; (m.Args != nil) != wantStruct {
			t.Errorf("%d params: Args = %+v, want a struct: %v", n, m.Args, wantStruct)
		}
		if m.Args == nil {
			continue
		}
		if m.Args.Type != "IssueInvoiceParams" || m.Args.Name != "arg" {
			t.Errorf("Args = %+v, want IssueInvoiceParams arg", m.Args)
		}
		for i, prm := range m.Params {
			if prm.ArgsField != fmt.Sprintf("Field%d", i) {
				t.Errorf("param %s: ArgsField %q, want the event field's name", prm.Name, prm.ArgsField)
			}
		}
	}
}
