// Package web serves the HTTP API, the play URLs and the console (web/ui).
// One route table (routes.go) both registers the gin handlers and generates
// the OpenAPI document, so the two cannot drift apart.
package web
