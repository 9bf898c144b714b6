package httpshared

import (
	"encoding/json"
	"net/http"
)

// apiError is the one JSON error shape outside the Auth.js routes:
// {"error":{"code":"session_expired","message":"..."}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorBody returns the JSON error body for code and message.
func ErrorBody(code, message string) []byte {
	b, _ := json.Marshal(apiError{Error: apiErrorBody{Code: code, Message: message}})
	return b
}

// WriteError writes status with the JSON error body. It is the only writer of
// that shape, for the API and the proxy alike.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(ErrorBody(code, message))
}
