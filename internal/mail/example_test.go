package mail_test

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"

	portalmail "github.com/privacyportal/portal/internal/mail"
)

func Example() {
	operator := portalmail.Operator{
		Name:    "Privacy Portal",
		Contact: "privacy@portal.example",
		SiteURL: "https://portal.example/",
	}
	r, err := portalmail.Render(operator, portalmail.Message{
		To:     "ada@example.com",
		Locale: "zh-CN",
		Kind:   portalmail.VerifyEmail,
		Data: portalmail.Data{
			Code:    "482915",
			Link:    "https://portal.example/verify/#token=abc",
			Minutes: 15,
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The footer (who sent it, the site, a contact) follows the signature separator "-- ".
	body, footer, _ := strings.Cut(r.Text, "\n-- \n")
	fmt.Println(body)
	fmt.Print(footer)

	raw, err := portalmail.BuildRaw("Privacy Portal <no-reply@portal.example>", r, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := mail.ReadMessage(bytes.NewReader(raw))
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	ctype, _, _ := strings.Cut(m.Header.Get("Content-Type"), ";")
	fmt.Println()
	fmt.Println("Subject:", subject)
	fmt.Println("Content-Type:", ctype)
	// Output:
	// 您好：
	//
	// 有人用这个电子邮件地址在Privacy Portal注册了账户。如果是您本人，请输入以下验证码以及您设置的密码：
	//
	//     482915
	//
	// 验证码将在 15 分钟后失效，且只能使用一次。
	//
	// 您也可以打开以下链接：
	// https://portal.example/verify/#token=abc
	//
	// 如果这不是您本人的操作，请忽略此邮件：没有验证码，这个地址就不会被确认，注册的人也无法使用它。
	//
	// 此邮件由Privacy Portal发送。网站：https://portal.example/
	// 如有疑问，请联系我们：privacy@portal.example
	//
	// Subject: 请确认您在Privacy Portal的电子邮件地址
	// Content-Type: multipart/alternative
}

// A marketing mail carries the RFC 8058 headers that let a mail client unsubscribe in one
// click; Render refuses one without Message.Unsubscribe.
func ExampleRender_marketing() {
	operator := portalmail.Operator{Name: "Privacy Portal", Contact: "privacy@portal.example", SiteURL: "https://portal.example/"}
	r, err := portalmail.Render(operator, portalmail.Message{
		To:     "ada@example.com",
		Locale: "en",
		Kind:   portalmail.Marketing,
		Data: portalmail.Data{
			Name:            "Ada",
			Title:           "Spring courses",
			Paragraphs:      []string{"Our spring courses open on 1 April."},
			UnsubscribeLink: "https://portal.example/unsubscribe/?token=abc",
			PreferencesLink: "https://portal.example/consent/",
		},
		Unsubscribe: "https://portal.example/api/unsubscribe?token=abc",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("List-Unsubscribe:", r.Headers["List-Unsubscribe"])
	fmt.Println("List-Unsubscribe-Post:", r.Headers["List-Unsubscribe-Post"])
	// Output:
	// List-Unsubscribe: <https://portal.example/api/unsubscribe?token=abc>
	// List-Unsubscribe-Post: List-Unsubscribe=One-Click
}
