package iam

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// s3Sub maps (method, subresource) to the IAM action, for buckets and for objects. A request
// with none of these subresources is the plain operation on the bucket or object.
var (
	s3BucketSub = map[string]map[string]string{
		http.MethodGet: {
			"versions": "s3:ListBucketVersions", "uploads": "s3:ListBucketMultipartUploads",
			"location": "s3:GetBucketLocation", "policy": "s3:GetBucketPolicy", "acl": "s3:GetBucketAcl",
			"cors": "s3:GetBucketCORS", "lifecycle": "s3:GetLifecycleConfiguration",
			"versioning": "s3:GetBucketVersioning", "tagging": "s3:GetBucketTagging",
			"encryption": "s3:GetEncryptionConfiguration", "website": "s3:GetBucketWebsite",
			"notification": "s3:GetBucketNotification", "publicAccessBlock": "s3:GetBucketPublicAccessBlock",
			"ownershipControls": "s3:GetBucketOwnershipControls", "object-lock": "s3:GetBucketObjectLockConfiguration",
			"logging": "s3:GetBucketLogging", "policyStatus": "s3:GetBucketPolicyStatus",
			"replication": "s3:GetReplicationConfiguration", "requestPayment": "s3:GetBucketRequestPayment",
			"accelerate": "s3:GetAccelerateConfiguration",
		},
		http.MethodPut: {
			"policy": "s3:PutBucketPolicy", "acl": "s3:PutBucketAcl", "cors": "s3:PutBucketCORS",
			"lifecycle": "s3:PutLifecycleConfiguration", "versioning": "s3:PutBucketVersioning",
			"tagging": "s3:PutBucketTagging", "encryption": "s3:PutEncryptionConfiguration",
			"website": "s3:PutBucketWebsite", "notification": "s3:PutBucketNotification",
			"publicAccessBlock": "s3:PutBucketPublicAccessBlock", "ownershipControls": "s3:PutBucketOwnershipControls",
			"object-lock": "s3:PutBucketObjectLockConfiguration", "logging": "s3:PutBucketLogging",
			"replication": "s3:PutReplicationConfiguration", "requestPayment": "s3:PutBucketRequestPayment",
			"accelerate": "s3:PutAccelerateConfiguration",
		},
		// Deleting a bucket configuration needs the Put permission, except for the policy and
		// the website, which have their own.
		http.MethodDelete: {
			"policy": "s3:DeleteBucketPolicy", "website": "s3:DeleteBucketWebsite", "cors": "s3:PutBucketCORS",
			"lifecycle": "s3:PutLifecycleConfiguration", "tagging": "s3:PutBucketTagging",
			"encryption": "s3:PutEncryptionConfiguration", "publicAccessBlock": "s3:PutBucketPublicAccessBlock",
			"ownershipControls": "s3:PutBucketOwnershipControls", "replication": "s3:PutReplicationConfiguration",
		},
	}
	s3ObjectSub = map[string]map[string]string{
		http.MethodGet: {
			"acl": "s3:GetObjectAcl", "tagging": "s3:GetObjectTagging", "uploadId": "s3:ListMultipartUploadParts",
			"retention": "s3:GetObjectRetention", "legal-hold": "s3:GetObjectLegalHold", "torrent": "s3:GetObjectTorrent",
			"attributes": "s3:GetObjectAttributes",
		},
		http.MethodPut: {
			"acl": "s3:PutObjectAcl", "tagging": "s3:PutObjectTagging", "retention": "s3:PutObjectRetention",
			"legal-hold": "s3:PutObjectLegalHold", "uploadId": "s3:PutObject",
		},
		http.MethodPost: {"uploads": "s3:PutObject", "uploadId": "s3:PutObject", "restore": "s3:RestoreObject", "select": "s3:GetObject"},
		http.MethodDelete: {
			"uploadId": "s3:AbortMultipartUpload", "tagging": "s3:DeleteObjectTagging",
		},
	}
	// s3VersionActions are the actions that become their ...Version form with ?versionId=.
	s3VersionActions = map[string]string{
		"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion",
		"s3:GetObjectAcl": "s3:GetObjectVersionAcl", "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
		"s3:GetObjectTagging": "s3:GetObjectVersionTagging", "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
		"s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging", "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
	}
)

// S3Request is what the S3 mapping reads from a request (path-style addressing).
type S3Request struct {
	Method string
	// Path is the decoded URL path: /bucket or /bucket/key.
	Path   string
	Query  url.Values
	Header http.Header
	// Presigned says the request was authenticated by query parameters (a presigned URL).
	Presigned bool
}

// Bucket and Key split the path.
func (r *S3Request) Bucket() string {
	b, _, _ := strings.Cut(strings.TrimPrefix(r.Path, "/"), "/")
	return b
}

func (r *S3Request) Key() string {
	_, k, _ := strings.Cut(strings.TrimPrefix(r.Path, "/"), "/")
	return k
}

// S3Checks maps an S3 REST request to the checks IAM makes. The operation is named by the
// method and the subresource in the query; object actions are authorized on
// arn:aws:s3:::bucket/key, bucket actions on arn:aws:s3:::bucket. DeleteObjects (POST
// ?delete) is authorized key by key: see S3DeleteObjectsChecks.
func S3Checks(r *S3Request) (op string, checks []Check, err error) {
	bucket, key := r.Bucket(), r.Key()
	keys := map[string][]string{"s3:signatureversion": {"AWS4-HMAC-SHA256"}, "s3:authtype": {"REST-HEADER"}}
	if r.Presigned {
		keys["s3:authtype"] = []string{"REST-QUERY-STRING"}
	}
	for h, k := range map[string]string{
		"X-Amz-Content-Sha256": "s3:x-amz-content-sha256", "X-Amz-Acl": "s3:x-amz-acl",
		"X-Amz-Server-Side-Encryption": "s3:x-amz-server-side-encryption",
	} {
		if v := r.Header.Get(h); v != "" {
			keys[k] = []string{v}
		}
	}
	if bucket == "" {
		if r.Method == http.MethodGet {
			return "ListBuckets", []Check{{Action: "s3:ListAllMyBuckets", Resource: "*", Keys: keys}}, nil
		}
		return r.Method, nil, &Reject{405, "MethodNotAllowed", "The specified method is not allowed against this resource."}
	}
	bucketARN := "arn:aws:s3:::" + bucket
	if key == "" {
		if r.Method == http.MethodPost && r.Query.Has("delete") {
			return "DeleteObjects", nil, nil
		}
		for sub, action := range s3BucketSub[r.Method] {
			if r.Query.Has(sub) {
				return strings.TrimPrefix(action, "s3:"), []Check{{Action: action, Resource: bucketARN, Keys: keys}}, nil
			}
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			for q, k := range map[string]string{"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"} {
				if r.Query.Has(q) {
					keys[k] = []string{r.Query.Get(q)}
				}
			}
			op := "ListObjects"
			if r.Method == http.MethodHead {
				op = "HeadBucket"
			} else if r.Query.Get("list-type") == "2" {
				op = "ListObjectsV2"
			}
			return op, []Check{{Action: "s3:ListBucket", Resource: bucketARN, Keys: keys}}, nil
		case http.MethodPut:
			return "CreateBucket", []Check{{Action: "s3:CreateBucket", Resource: bucketARN, Keys: keys}}, nil
		case http.MethodDelete:
			return "DeleteBucket", []Check{{Action: "s3:DeleteBucket", Resource: bucketARN, Keys: keys}}, nil
		}
		return r.Method, nil, &Reject{405, "MethodNotAllowed", "The specified method is not allowed against this resource."}
	}

	objectARN := bucketARN + "/" + key
	versioned := r.Query.Has("versionId")
	if versioned {
		keys["s3:versionid"] = []string{r.Query.Get("versionId")}
	}
	action := ""
	for sub, a := range s3ObjectSub[r.Method] {
		if r.Query.Has(sub) && (sub != "uploadId" || r.Method != http.MethodPut || r.Query.Has("partNumber")) {
			action = a
			op = strings.TrimPrefix(a, "s3:")
			switch {
			case sub == "uploads":
				op = "CreateMultipartUpload"
			case sub == "uploadId" && r.Method == http.MethodPost:
				op = "CompleteMultipartUpload"
			case sub == "uploadId" && r.Method == http.MethodPut:
				op = "UploadPart"
			case sub == "uploadId" && r.Method == http.MethodGet:
				op = "ListParts"
			case sub == "uploadId" && r.Method == http.MethodDelete:
				op = "AbortMultipartUpload"
			}
			break
		}
	}
	if action == "" {
		switch r.Method {
		case http.MethodGet:
			action, op = "s3:GetObject", "GetObject"
		case http.MethodHead:
			action, op = "s3:GetObject", "HeadObject"
		case http.MethodPut:
			action, op = "s3:PutObject", "PutObject"
		case http.MethodDelete:
			action, op = "s3:DeleteObject", "DeleteObject"
		default:
			return r.Method, nil, &Reject{405, "MethodNotAllowed", "The specified method is not allowed against this resource."}
		}
	}
	if versioned {
		if v, ok := s3VersionActions[action]; ok {
			action = v
		}
	}
	checks = append(checks, Check{Action: action, Resource: objectARN, Keys: keys})
	// GetObjectAttributes needs read access to the object as well as its own action.
	if op == "GetObjectAttributes" || op == "GetObjectVersionAttributes" {
		read := "s3:GetObject"
		if versioned {
			read = "s3:GetObjectVersion"
		}
		checks = append(checks, Check{Action: read, Resource: objectARN, Keys: keys})
	}
	if r.Method == http.MethodPut && action == "s3:PutObject" {
		// A copy reads its source; tags and an ACL given with the upload need their own
		// permissions.
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
			if op == "PutObject" {
				op = "CopyObject"
			} else {
				op = "UploadPartCopy"
			}
			srcPath, srcQuery, _ := strings.Cut(src, "?")
			if p, err := url.PathUnescape(srcPath); err == nil {
				srcPath = p
			}
			read := "s3:GetObject"
			if strings.Contains(srcQuery, "versionId=") {
				read = "s3:GetObjectVersion"
			}
			checks = append(checks, Check{Action: read, Resource: "arn:aws:s3:::" + strings.TrimPrefix(srcPath, "/"), Keys: keys})
		}
		if op == "PutObject" || op == "CopyObject" {
			if r.Header.Get("X-Amz-Tagging") != "" {
				checks = append(checks, Check{Action: "s3:PutObjectTagging", Resource: objectARN, Keys: keys})
			}
			if r.Header.Get("X-Amz-Acl") != "" || r.Header.Get("X-Amz-Grant-Read") != "" || r.Header.Get("X-Amz-Grant-Full-Control") != "" {
				checks = append(checks, Check{Action: "s3:PutObjectAcl", Resource: objectARN, Keys: keys})
			}
		}
	}
	return op, checks, nil
}

// S3DeleteObject is one key of a DeleteObjects request.
type S3DeleteObject struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId"`
}

// S3DeleteObjectsBody is the body of a DeleteObjects request.
type S3DeleteObjectsBody struct {
	XMLName xml.Name         `xml:"Delete"`
	Objects []S3DeleteObject `xml:"Object"`
	Quiet   bool             `xml:"Quiet"`
}

// S3DeleteObjectsChecks reads a DeleteObjects body: S3 authorizes each key on its own
// (s3:DeleteObject, or s3:DeleteObjectVersion with a version) and reports refused keys
// inside an otherwise successful response.
func S3DeleteObjectsChecks(bucket string, body []byte) (*S3DeleteObjectsBody, []Check, error) {
	var d S3DeleteObjectsBody
	if err := xml.Unmarshal(body, &d); err != nil || len(d.Objects) == 0 {
		return nil, nil, &Reject{400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"}
	}
	checks := make([]Check, len(d.Objects))
	for i, o := range d.Objects {
		action := "s3:DeleteObject"
		if o.VersionID != "" {
			action = "s3:DeleteObjectVersion"
		}
		checks[i] = Check{Action: action, Resource: "arn:aws:s3:::" + bucket + "/" + o.Key,
			Keys: map[string][]string{"s3:signatureversion": {"AWS4-HMAC-SHA256"}, "s3:authtype": {"REST-HEADER"}}}
	}
	return &d, checks, nil
}

func sortChecks(cs []Check) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Resource != cs[j].Resource {
			return cs[i].Resource < cs[j].Resource
		}
		return cs[i].Action < cs[j].Action
	})
}
