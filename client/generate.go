// Package client is a Go client of the invoicing service's HTTP API
// (/v1), generated from api/openapi.yaml by oapi-codegen, whose version
// the go:generate line below pins. Do not edit client.gen.go: change the
// document and run `go generate ./client`; CI regenerates it and fails on
// any difference.
//
// NewClientWithResponses returns a client whose methods decode each
// documented response (JSON200, JSON201, ApplicationproblemJSON422, ...);
// authenticate with a request editor that sets the bearer API key (see the
// example).
package client

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -generate types,client -package client -o client.gen.go ../api/openapi.yaml
