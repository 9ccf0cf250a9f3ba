package main

import "github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"

// startPprof serves the runtime profiles on PPROF_ADDR, apart from the API.
var startPprof = invoicinghttp.StartPprof
