package invoice

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Limits on an invoice's metadata (Stripe's).
const (
	MaxMetadataKeys  = 50
	MaxMetadataKey   = 40  // characters
	MaxMetadataValue = 500 // characters
	// MaxMetadataBytes bounds the metadata's JSON encoding (as encoding/json
	// writes it, escapes included): the keys and values above, in ASCII,
	// take at most 27,551 bytes; text that JSON escapes (up to 6 bytes a
	// character) could take 162,000, too much to add to an event of 100
	// lines and stay within the broker's message limit (relay.MaxEventBytes).
	MaxMetadataBytes = 32 << 10
)

// ErrInvalidMetadata is the error of metadata beyond its limits; its field is
// "metadata" or "metadata.<key>".
var ErrInvalidMetadata = &failure.Error{Kind: failure.Invalid, Code: "invalid_metadata", Message: "metadata is invalid"}

// Metadata is the caller's own data on an invoice: at most MaxMetadataKeys
// keys of 1 to MaxMetadataKey characters, each with a value of 1 to
// MaxMetadataValue characters without U+0000, MaxMetadataBytes in all as JSON. The invoice keeps it and carries it in its
// events, but no rule reads it.
type Metadata map[string]string

// applyMetadata returns base changed by patch, JSON merge-patch style: a key
// with a value sets it, a key with "" removes it. base is not changed. It
// fails with one ErrInvalidMetadata per key of patch at fault (field
// "metadata.<key>") and one for more than MaxMetadataKeys keys in the result
// (field "metadata"); the error is nil when all is well.
func applyMetadata(base Metadata, patch map[string]string) (Metadata, []error) {
	var errs []error
	out := maps.Clone(base)
	if out == nil {
		out = Metadata{}
	}
	for _, k := range sortedKeys(patch) {
		v := patch[k]
		if !kernel.ValidText(k, MaxMetadataKey) || strings.ContainsAny(k, "[]") || strings.TrimSpace(k) != k {
			errs = append(errs, ErrInvalidMetadata.With(metadataField(k),
				"a metadata key is 1 to %d characters, without surrounding spaces, brackets or control characters", MaxMetadataKey))
			continue
		}
		// U+0000 is refused: PostgreSQL's jsonb, where the invoice and its
		// events keep the metadata, cannot hold it. Other control characters
		// (a newline in an address) are the caller's own data.
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxMetadataValue || strings.ContainsRune(v, 0) {
			errs = append(errs, ErrInvalidMetadata.With(metadataField(k), "a metadata value is at most %d characters of UTF-8, without U+0000", MaxMetadataValue))
			continue
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	if len(out) > MaxMetadataKeys {
		errs = append(errs, ErrInvalidMetadata.With("metadata", "metadata has at most %d keys", MaxMetadataKeys))
	} else if b, _ := json.Marshal(out); len(errs) == 0 && len(b) > MaxMetadataBytes {
		errs = append(errs, ErrInvalidMetadata.With("metadata", "metadata takes at most %d bytes as JSON", MaxMetadataBytes))
	}
	if len(out) == 0 {
		out = nil
	}
	return out, errs
}

// metadataField names key's field in an error: "metadata.<key>", or
// "metadata" for a key that cannot be shown (not UTF-8, or far too long).
func metadataField(key string) string {
	if !utf8.ValidString(key) || len(key) > 4*MaxMetadataKey || kernel.HasControl(key) {
		return "metadata"
	}
	return "metadata." + key
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Metadata returns a copy of the invoice's metadata (nil: none).
func (inv *Invoice) Metadata() Metadata { return maps.Clone(inv.metadata) }

// WithMetadata returns an Option of New that sets the new invoice's
// metadata (see Metadata; "" values are left out). New fails with
// ErrInvalidMetadata if it breaks a limit.
func WithMetadata(m map[string]string) Option {
	return func(o *options) { o.metadata = m }
}

// Option is an optional input of New.
type Option func(*options)

type options struct {
	metadata map[string]string
}

// rehydrateMetadata sets stored metadata after checking its limits (every
// value non-empty); it returns the first broken rule.
func (inv *Invoice) rehydrateMetadata(m Metadata) error {
	for k, v := range m {
		if v == "" {
			return ErrInvalidMetadata.With(metadataField(k), "empty value")
		}
	}
	out, errs := applyMetadata(nil, m)
	if len(errs) > 0 {
		return errs[0]
	}
	inv.metadata = out
	return nil
}
