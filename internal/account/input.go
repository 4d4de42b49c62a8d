package account

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/privacyportal/portal/internal/privacy"
)

// RegisterInput is the registration form (docs/api.md). Optional holds the optional fields
// the catalogue lists, by their JSON names; any other field is refused by name.
type RegisterInput struct {
	Name          string
	Email         string
	Username      string
	Password      string
	AgeGroup      string
	Locale        string
	GuardianEmail string
	Optional      map[string]string
	Consents      []string
}

// UnmarshalJSON reads the form: its own fields, the catalogue's optional fields, and nothing
// else.
func (in *RegisterInput) UnmarshalJSON(b []byte) error {
	in.Optional = map[string]string{}
	return decodeFields(b, map[string]any{
		"name": &in.Name, "email": &in.Email, "username": &in.Username, "password": &in.Password,
		"ageGroup": &in.AgeGroup, "locale": &in.Locale, "guardianEmail": &in.GuardianEmail, "consents": &in.Consents,
	}, func(key string, raw json.RawMessage) error {
		var v string
		if err := decodeField(key, raw, &v); err != nil {
			return err
		}
		in.Optional[key] = v
		return nil
	})
}

// UpdateInput is a partial update of the account: absent fields are left alone; an optional
// field set to "" is deleted.
type UpdateInput struct {
	Name     *string
	Username *string
	Locale   *string
	Email    *string
	Optional map[string]*string
	Consents []string
	// CurrentPassword is required to change the address or the username: a stolen session
	// alone must not be enough to take the account over.
	CurrentPassword string
}

// UnmarshalJSON reads the update like RegisterInput's.
func (in *UpdateInput) UnmarshalJSON(b []byte) error {
	in.Optional = map[string]*string{}
	return decodeFields(b, map[string]any{
		"name": &in.Name, "username": &in.Username, "locale": &in.Locale, "email": &in.Email, "consents": &in.Consents,
		"currentPassword": &in.CurrentPassword,
	}, func(key string, raw json.RawMessage) error {
		var v *string
		if err := decodeField(key, raw, &v); err != nil {
			return err
		}
		in.Optional[key] = v
		return nil
	})
}

// decodeFields decodes a JSON object: members named in fields into their targets, members
// that are optional fields of the catalogue through optional, and anything else is an error
// naming it. Members are taken in name order, so the field an error names does not depend on
// map order.
func decodeFields(b []byte, fields map[string]any, optional func(key string, raw json.RawMessage) error) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return privacy.FieldError("body", "must be a JSON object")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return privacy.FieldError("body", "must be a JSON object")
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cat := privacy.Catalogue()
	for _, k := range keys {
		if target, ok := fields[k]; ok {
			if err := decodeField(k, members[k], target); err != nil {
				return err
			}
			continue
		}
		if _, ok := cat.OptionalField(k); ok {
			if err := optional(k, members[k]); err != nil {
				return err
			}
			continue
		}
		if k == "" {
			return privacy.FieldError("body", "has a field with no name")
		}
		return privacy.FieldError(k, "is not a field this endpoint accepts")
	}
	return nil
}

func decodeField(key string, raw json.RawMessage, target any) error {
	if err := json.Unmarshal(raw, target); err != nil {
		kind := "string"
		if _, list := target.(*[]string); list {
			kind = "list of strings"
		}
		return privacy.FieldError(key, "must be a %s", kind)
	}
	return nil
}

// trimmed returns the optional values with surrounding space removed.
func trimmed(values map[string]string) map[string]string {
	out := make(map[string]string, len(values))
	for k, v := range values {
		out[k] = strings.TrimSpace(v)
	}
	return out
}
