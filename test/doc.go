// Package test holds authbff's test support: contract suites for the ports
// (test/contract), in-memory fakes (test/fake), the test environment that
// provides databases and an identity provider (test/testenv), end-to-end
// suites (test/e2e) and the load tool (test/load).
//
// Import rule: anything. Production code never imports these packages.
package test
