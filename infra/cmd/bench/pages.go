package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/privacyportal/portal/infra/portaltest"
)

// pageBudget is the most a page may transfer, compressed, with everything it loads.
const pageBudget = 30 << 10

// pageWeights opens every page of the built site in headless Chromium, with its cache off, as
// a first-time visitor, and counts the bytes each transfers (Network.loadingFinished's
// encodedDataLength: compressed, headers included) with everything it loads, and every
// request that leaves the portal's origin. The heaviest page is held to pageBudget.
func pageWeights(ctx context.Context, b *bench) ([]Result, error) {
	c, err := b.Cloud(ctx)
	if err != nil {
		return nil, err
	}
	var pages []string
	err = filepath.WalkDir(c.SiteDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "index.html" {
			return err
		}
		rel, _ := filepath.Rel(c.SiteDir, filepath.Dir(p))
		pages = append(pages, "/"+strings.TrimPrefix(filepath.ToSlash(rel)+"/", "./"))
		return nil
	})
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(portaltest.ChromiumPath), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	origin, _ := url.Parse(c.URL)
	var mu sync.Mutex
	var bytes float64
	thirdParty := 0
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventLoadingFinished:
			bytes += e.EncodedDataLength
		case *network.EventRequestWillBeSent:
			if u, err := url.Parse(e.Request.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != origin.Host {
				thirdParty++
			}
		}
	}); err != nil {
		return nil, err
	}
	err = chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
	if err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	heaviest, heaviestPage := 0.0, ""
	for _, p := range pages {
		mu.Lock()
		bytes = 0
		mu.Unlock()
		if err := chromedp.Do(bctx, chromedp.Navigate(c.URL+p)); err != nil {
			return nil, fmt.Errorf("open %s: %w", p, err)
		}
		// The page's scripts fetch what they need (the API answers 401 signed out) after load.
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		if bytes > heaviest {
			heaviest, heaviestPage = bytes, p
		}
		mu.Unlock()
	}
	r := compare("page.heaviest.transferred", "bytes", heaviest, "30 KiB budget", pageBudget)
	r.target = 1
	tp := compare("page.thirdparty.requests", "requests", float64(thirdParty), "", 0)
	fmt.Printf("bench: heaviest of %d pages: %s (%.0f bytes)\n", len(pages), heaviestPage, heaviest)
	return []Result{r, tp}, nil
}
