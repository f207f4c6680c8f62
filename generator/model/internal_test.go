package model

import "testing"

func TestCanImport(t *testing.T) {
	for _, tt := range []struct {
		importer, imported string
		want               bool
	}{
		{"m/projections", "m/internal/order", true},
		{"m/projections", "m/order", true},
		{"m/projections", "m/services/billing/internal/invoice", false},
		{"m/services/billing/projections", "m/services/billing/internal/invoice", true},
		{"m/services/billing", "m/services/billing/internal", true},
		{"m/services/billingx/projections", "m/services/billing/internal/invoice", false},
		{"m/a/internal/b/projections", "m/a/internal/b/internal/c", true},
		{"m/a/projections", "m/a/internal/b/internal/c", false},
	} {
		if got := canImport(tt.importer, tt.imported); got != tt.want {
			t.Errorf("canImport(%q, %q) = %v, want %v", tt.importer, tt.imported, got, tt.want)
		}
	}
}
