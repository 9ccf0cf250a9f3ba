package invoicinghttp

import (
	"maps"
	"slices"
	"strconv"
	"testing"
)

// frame encodes resp as the answers stored before results were (see
// unframe), headers sorted by name.
func (resp response) frame() []byte {
	names := slices.Sorted(maps.Keys(resp.header))
	b := make([]byte, 0, 64+len(resp.body))
	b = strconv.AppendInt(b, int64(resp.status), 10)
	b = append(b, '\n')
	for _, k := range names {
		b = append(append(append(append(b, k...), ": "...), resp.header[k]...), '\n')
	}
	b = append(b, '\n')
	return append(b, resp.body...)
}

// The framing of answers stored before results round-trips, whatever the
// body holds, and reads the rows migration 000007 converted
// (TestMigration7FramesStoredResponses).
func TestFramedResponsesRoundTrip(t *testing.T) {
	for _, resp := range []response{
		{status: 201, header: map[string]string{"Content-Type": "application/json", "ETag": `"1"`, "Location": "/v1/invoices/x"},
			body: []byte("{\"a\":\n\n1}")},
		{status: 200, header: map[string]string{}, body: nil},
		{status: 200, header: map[string]string{"ETag": `"7"`}, body: []byte("\n\n")},
	} {
		got, err := unframe(resp.frame())
		if err != nil || got.status != resp.status || !maps.Equal(got.header, resp.header) || string(got.body) != string(resp.body) {
			t.Errorf("unframe(frame(%+v)) = %+v, %v", resp, got, err)
		}
	}
	migrated, err := unframe([]byte("201\nContent-Type: application/json\nETag: \"1\"\nLocation: /v1/invoices/x\n\n{\"a\":\n\n1}"))
	if err != nil || migrated.status != 201 || migrated.header["ETag"] != `"1"` || string(migrated.body) != "{\"a\":\n\n1}" {
		t.Errorf("a migrated response reads as %+v, %v", migrated, err)
	}
	for _, bad := range []string{"", "200", "200\n", "OK\n\n", "200\nETag\n\nx"} {
		if _, err := unframe([]byte(bad)); err == nil {
			t.Errorf("unframe(%q) succeeded", bad)
		}
	}
}
