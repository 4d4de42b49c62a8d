package consent

import (
	"context"
	"strings"

	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

// Receipt is a consent receipt in the fields of the Kantara Initiative's Consent Receipt
// Specification v1.1: what the person decided, when, under which policy, and who is
// accountable. Each purpose also says whether it was granted or withdrawn ("granted"), which
// the specification leaves to extensions: a receipt here records withdrawals too.
type Receipt struct {
	Version          string           `json:"version"`
	Jurisdiction     string           `json:"jurisdiction"`
	ConsentTimestamp int64            `json:"consentTimestamp"`
	CollectionMethod string           `json:"collectionMethod"`
	ConsentReceiptID string           `json:"consentReceiptID"`
	Language         string           `json:"language"`
	PIIPrincipalID   string           `json:"piiPrincipalId"`
	PIIControllers   []ReceiptControl `json:"piiControllers"`
	PolicyURL        string           `json:"policyUrl"`
	Services         []ReceiptService `json:"services"`
	Sensitive        bool             `json:"sensitive"`
	SPICat           []string         `json:"spiCat"`
	PolicySHA256     string           `json:"policySha256"`
}

// ReceiptControl is a controller of the receipt's data.
type ReceiptControl struct {
	PIIController    string `json:"piiController"`
	OnBehalf         bool   `json:"onBehalf"`
	Contact          string `json:"contact"`
	Email            string `json:"email"`
	PIIControllerURL string `json:"piiControllerUrl"`
}

// ReceiptService is the service the purposes belong to.
type ReceiptService struct {
	Service  string           `json:"service"`
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is one decision of the receipt.
type ReceiptPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeID            string   `json:"purposeId"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	ThirdPartyName       string   `json:"thirdPartyName,omitempty"`
	Granted              bool     `json:"granted"`
}

// receiptVersion is the specification's version string.
const receiptVersion = "KI-CR-v1.1.0"

var collectionMethods = map[privacy.Source]string{
	privacy.SourceForm:         "The consent centre of the privacy portal",
	privacy.SourceBanner:       "The cookie preferences of the privacy portal",
	privacy.SourceGPC:          "The browser's Global Privacy Control signal",
	privacy.SourceDNT:          "The browser's Do Not Track signal",
	privacy.SourceUnsubscribe:  "The one-click unsubscribe link of a marketing mail",
	privacy.SourceRegistration: "The registration form of the privacy portal",
	privacy.SourceAccount:      "The account page of the privacy portal",
	privacy.SourceGuardian:     "A parent's or guardian's answer to the portal's mail",
	privacy.SourcePolicy:       "Accepting a version of the privacy policy in the privacy portal",
}

// receiptOf builds the receipt of the ledger entries with ID id, in the person's locale;
// ok is false when the ledger has none.
func (e *Env) receiptOf(ledger []privacy.ConsentEntry, id string, subject privacy.SubjectID, locale string) (Receipt, bool) {
	var entries []privacy.ConsentEntry
	for _, c := range ledger {
		if c.ReceiptID == id && id != "" {
			entries = append(entries, c)
		}
	}
	if len(entries) == 0 {
		return Receipt{}, false
	}
	first := entries[0]
	r := Receipt{
		Version: receiptVersion, Jurisdiction: e.Operator.Jurisdiction, ConsentTimestamp: first.At.Unix(),
		CollectionMethod: collectionMethods[first.Source], ConsentReceiptID: id, Language: locale,
		PIIPrincipalID: string(subject),
		PIIControllers: []ReceiptControl{{
			PIIController: e.Operator.Name, Contact: e.Operator.Contact, Email: e.Operator.Contact, PIIControllerURL: e.Operator.SiteURL,
		}},
		PolicyURL: e.Operator.SiteURL + privacy.LocalePath(locale, "/policy/"+first.Version()+"/"), PolicySHA256: first.Policy.SHA256,
		SPICat: []string{},
	}
	svc := ReceiptService{Service: e.Operator.Name + " privacy portal"}
	cat := privacy.Catalogue()
	for _, c := range entries {
		p, _ := cat.Purpose(c.Purpose)
		rp := ReceiptPurpose{
			Purpose: text(p.Name, locale), PurposeID: p.ID, PurposeCategory: []string{string(p.Category)},
			ConsentType: "EXPLICIT", PIICategory: piiCategories(p), Termination: "Until withdrawn in the consent centre",
			Granted: c.ActionOf() == privacy.ActionGrant,
		}
		if c.Source == privacy.SourceGPC || c.Source == privacy.SourceDNT {
			rp.ConsentType = "IMPLICIT"
		}
		if !rp.Granted {
			rp.Termination = "Withdrawn " + c.At.UTC().Format("2006-01-02T15:04:05Z")
		}
		if p.Recipient != nil {
			rp.ThirdPartyDisclosure, rp.ThirdPartyName = true, text(p.Recipient.Name, locale)
		}
		svc.Purposes = append(svc.Purposes, rp)
	}
	r.Services = []ReceiptService{svc}
	return r, true
}

// piiCategories are the kinds of personal data a purpose uses.
func piiCategories(p privacy.Purpose) []string {
	switch p.Category {
	case privacy.CategoryProfile:
		return []string{strings.TrimPrefix(p.ID, "profile.")}
	case privacy.CategoryAnalytics:
		return []string{"page views"}
	case privacy.CategoryMarketing, privacy.CategoryTracking:
		return []string{"e-mail address", "name"}
	case privacy.CategoryPermission:
		return []string{strings.TrimPrefix(p.ID, "permission.")}
	}
	if p.Recipient != nil {
		return p.Recipient.Fields
	}
	return []string{}
}

func text(t privacy.Text, locale string) string {
	if v := t[locale]; v != "" {
		return v
	}
	return t[privacy.LocaleEnglish]
}

// Receipt returns one of the caller's receipts; another person's, or none, is not found.
func (s *Centre) Receipt(ctx context.Context, c web.Caller, id string) (Receipt, error) {
	a, err := s.Store.Account(ctx, c.Subject)
	if err != nil {
		return Receipt{}, err
	}
	ledger, err := s.Store.Ledger(ctx, c.Subject)
	if err != nil {
		return Receipt{}, err
	}
	r, ok := s.receiptOf(ledger, id, c.Subject, a.Profile.Locale)
	if !ok {
		return Receipt{}, privacy.Errorf(privacy.NotFound, "No such receipt.")
	}
	return r, nil
}
