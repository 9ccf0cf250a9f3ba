// Package api holds the service's published contracts, embedded so the binary
// serves exactly the document its tests validate against.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the HTTP API (openapi.yaml), the
// source of truth for every route, parameter, header, schema and error
// response. It is served as is at GET /v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
