package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/endurehq/endure/pkg/protocol"
)

// nameCase is a candidate name and whether each validator accepts it.
type nameCase struct {
	name              string
	in                string
	token, hub, event bool // want accepted by ValidateInstanceID/ValidateName, ValidateHub, ValidateEventName
}

var nameCases = []nameCase{
	{name: "letters and digits", in: "Order42", token: true, hub: true, event: true},
	{name: "dash and underscore", in: "order-42_b", token: true, hub: true, event: true},
	{name: "equals sign", in: "b64=", token: true, hub: false, event: true},
	{name: "single character", in: "a", token: true, hub: true, event: true},
	{name: "max length", in: strings.Repeat("a", protocol.MaxNameLength), token: true, hub: true, event: true},
	{name: "over max length", in: strings.Repeat("a", protocol.MaxNameLength+1)},
	{name: "empty", in: ""},
	{name: "dot", in: "order.42"},
	{name: "star", in: "order*"},
	{name: "greater-than", in: "order>"},
	{name: "lone star", in: "*"},
	{name: "lone greater-than", in: ">"},
	{name: "space", in: "order 42"},
	{name: "leading space", in: " order"},
	{name: "tab", in: "order\t42"},
	{name: "newline", in: "order\n"},
	{name: "NUL", in: "order\x00"},
	{name: "DEL", in: "order\x7f"},
	{name: "non-breaking space", in: "order\u00a042"},
	{name: "slash", in: "orders/42", event: true},
	{name: "colon", in: "approval:granted", event: true},
	{name: "non-ASCII letter", in: "Bestellung-Größe", event: true},
	{name: "emoji", in: "ok-👍", event: true},
	{name: "invalid UTF-8", in: "order\xff"},
	{name: "zero-width space", in: "order\u200b"},
	{name: "max length in multibyte characters", in: strings.Repeat("é", protocol.MaxNameLength/2), event: true},
	{name: "over max length in multibyte characters", in: strings.Repeat("é", protocol.MaxNameLength/2+1)},
}

func TestValidateNames(t *testing.T) {
	validators := []struct {
		name     string
		validate func(string) error
		want     func(nameCase) bool
	}{
		{"ValidateInstanceID", protocol.ValidateInstanceID, func(c nameCase) bool { return c.token }},
		{"ValidateName", protocol.ValidateName, func(c nameCase) bool { return c.token }},
		{"ValidateHub", protocol.ValidateHub, func(c nameCase) bool { return c.hub }},
		{"ValidateEventName", protocol.ValidateEventName, func(c nameCase) bool { return c.event }},
	}
	for _, v := range validators {
		t.Run(v.name, func(t *testing.T) {
			for _, c := range nameCases {
				err := v.validate(c.in)
				switch {
				case v.want(c) && err != nil:
					t.Errorf("%s: %s(%q) = %v, want it accepted", c.name, v.name, c.in, err)
				case !v.want(c) && err == nil:
					t.Errorf("%s: %s(%q) accepted it, want ErrInvalidName", c.name, v.name, c.in)
				case !v.want(c) && !errors.Is(err, protocol.ErrInvalidName):
					t.Errorf("%s: %s(%q) = %v, want it to wrap ErrInvalidName", c.name, v.name, c.in, err)
				}
			}
		})
	}
}
