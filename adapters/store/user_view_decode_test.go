package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

// userViewSamples are sessions.user_view as each dialect's triggers write it
// (PostgreSQL's json_build_object spaces its output, SQLite's json_object
// does not), and shapes only encoding/json reads.
var userViewSamples = []struct {
	in   string
	fast bool // parseUserView reads it itself
}{
	{`{"n" : "Load Test", "e" : "load@example.test", "i" : "", "r" : [["viewer", "client:web_app"], ["admin", "realm"]], "o" : [["6c6f6164-0000-4000-8000-0000000000a1", "load-acme", "Acme Load", "t-acme", ""]]}`, true},
	{`{"n":"Zoë","e":"","i":"https://img.example/a.png","r":[],"o":[]}`, true},
	{`{"n":"Ada","e":"ada@example.test","i":"","r":[["user","realm"]],"o":[["id","acme","Acme","","kc-1"],["id2","globex","Globex","t","kc-2"]]}`, true},
	{`{"n":"A \"quoted\" name","e":"","i":"","r":[],"o":[]}`, false},
	{`{"n":"\u00e9","e":"","i":"","r":[],"o":[]}`, false},
	{`{"e":"","n":"swapped","i":"","r":[],"o":[]}`, false},
	{`{"n":"x","e":"","i":"","r":null,"o":[]}`, false},
	{`{"n":"x","e":"","i":"","r":[["only one"]],"o":[]}`, false},
	{"{\"n\":\"\xff\",\"e\":\"\",\"i\":\"\",\"r\":[],\"o\":[]}", false},
}

// TestParseUserViewReadsWhatTheTriggersWrite: the fast parser takes the
// triggers' shapes itself and leaves the rest to encoding/json, with the
// same result either way.
func TestParseUserViewReadsWhatTheTriggersWrite(t *testing.T) {
	for _, c := range userViewSamples {
		_, fast := parseUserView(c.in)
		if fast != c.fast {
			t.Errorf("parseUserView(%q) took it: %t, want %t", c.in, fast, c.fast)
		}
		got, err := decodeUserView(c.in)
		var want userView
		werr := json.Unmarshal([]byte(c.in), &want)
		if (err != nil) != (werr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeUserView(%q) = %+v, %v; encoding/json: %+v, %v", c.in, got, err, want, werr)
		}
	}
}

// FuzzParseUserView: whatever parseUserView accepts, encoding/json reads
// the same way.
func FuzzParseUserView(f *testing.F) {
	for _, c := range userViewSamples {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseUserView(s)
		if !ok {
			return
		}
		var want userView
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("parseUserView accepted %q, which encoding/json refuses: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseUserView(%q) = %+v, encoding/json %+v", s, got, want)
		}
	})
}
