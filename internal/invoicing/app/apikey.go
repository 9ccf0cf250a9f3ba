package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// keyPrefix marks invoicing API keys, so leaked keys are easy to grep for.
const keyPrefix = "inv_"

// HashAPIKey returns the stored form of a key. Keys carry 256 bits of
// randomness, so one SHA-256 suffices: there is nothing to brute-force.
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// CreateAPIKey creates a key for a tenant, creating the tenant if needed.
type CreateAPIKey struct {
	TenantName string
}

// CreateAPIKeyHandler handles CreateAPIKey.
type CreateAPIKeyHandler struct {
	keys APIKeys
}

// Handle returns the new key in clear text; it is never stored or shown again.
// It fails with ErrInvalidTenant for a blank or over-long tenant name.
func (h CreateAPIKeyHandler) Handle(ctx context.Context, cmd CreateAPIKey) (key string, tenant kernel.TenantID, err error) {
	name := strings.TrimSpace(cmd.TenantName)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", kernel.TenantID{}, ErrInvalidTenant
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
	key = keyPrefix + base64.RawURLEncoding.EncodeToString(secret)
	tenant, err = h.keys.Create(ctx, name, HashAPIKey(key))
	if err != nil {
		return "", kernel.TenantID{}, err
	}
	return key, tenant, nil
}

// Authenticate resolves an API key to its tenant.
type Authenticate struct {
	Key string
}

// AuthenticateHandler handles Authenticate.
type AuthenticateHandler struct {
	keys APIKeys
}

// Handle returns the key's tenant, or ErrUnauthorized.
func (h AuthenticateHandler) Handle(ctx context.Context, q Authenticate) (kernel.TenantID, error) {
	if !strings.HasPrefix(q.Key, keyPrefix) || len(q.Key) > 128 {
		return kernel.TenantID{}, ErrUnauthorized
	}
	return h.keys.Tenant(ctx, HashAPIKey(q.Key))
}
