package invoicinghttp_test

import (
	"reflect"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
)

// TestConfigHoldsNoFunctions: what an outer layer hands the API is data
// and the objects it calls; another context's routes go on API.V1, so no
// callback of main's runs inside this package.
func TestConfigHoldsNoFunctions(t *testing.T) {
	if got := funcFieldsOf(reflect.TypeFor[invoicinghttp.Config]()); len(got) > 0 {
		t.Errorf("invoicinghttp.Config has function fields %v: expose what the caller needs instead", got)
	}
	// The finder itself, on a struct holding one.
	type withRoutes struct {
		Name   string
		Routes func(*invoicinghttp.Host)
	}
	if got := funcFieldsOf(reflect.TypeFor[withRoutes]()); !reflect.DeepEqual(got, []string{"Routes"}) {
		t.Errorf("funcFieldsOf found %v, want [Routes]", got)
	}
}

// funcFieldsOf returns the names of typ's fields that are functions.
func funcFieldsOf(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		if f.Type.Kind() == reflect.Func {
			out = append(out, f.Name)
		}
	}
	return out
}
