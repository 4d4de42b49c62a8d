#!/usr/bin/env bash
# Deploy the portal to your AWS account: build the functions, deploy the stack with SAM (and, for a
# home region other than us-east-1, the CloudFront web ACL in us-east-1), make the hash key once,
# build the site with the parameters the stack was deployed with, upload it with the portal's
# address, and invalidate CloudFront.
# docs/deploy.md explains every step and parameter.
#
# Usage: infra/deploy.sh [--guided]        (make deploy, or make deploy GUIDED=1)
#
# --guided asks for the stack name, region and every parameter, and saves the answers in
# samconfig.toml; without a saved stack it is used anyway. Environment:
#   AWS_CLI         the AWS CLI v2 to use (default /usr/bin/aws, Debian's; the first `aws` on PATH
#                   may be an old v1)
#   SAM             the SAM CLI (default sam)
#   SAM_CONFIG_ENV  the samconfig.toml environment (default "default")
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

AWS_CLI=${AWS_CLI:-/usr/bin/aws}
SAM=${SAM:-sam}
SAM_CONFIG_ENV=${SAM_CONFIG_ENV:-default}

die() {
	echo "deploy: $*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

guided=false
for arg in "$@"; do
	case $arg in
	--guided) guided=true ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done

[[ -x $AWS_CLI ]] || die "$AWS_CLI not found: install the AWS CLI v2 (Debian: apt-get install awscli) or set AWS_CLI"
command -v "$SAM" >/dev/null || die "$SAM not found: install the AWS SAM CLI"
command -v go >/dev/null || die "go not found: install Go 1.26"

# samconfig_get KEY prints KEY from samconfig.toml's deploy, then global, parameters of
# $SAM_CONFIG_ENV (what `sam deploy --guided` saved), or nothing.
samconfig_get() {
	[[ -f samconfig.toml ]] || return 0
	local section
	for section in deploy global; do
		awk -v want="[$SAM_CONFIG_ENV.$section.parameters]" -v key="$1" '
			/^[[:space:]]*\[/ { gsub(/[[:space:]]/, ""); in_section = ($0 == want); next }
			in_section && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
				sub(/^[^=]*=[[:space:]]*/, ""); sub(/[[:space:]]+#.*$/, ""); gsub(/^"|"$/, ""); print; found = 1; exit
			}
			END { exit !found }' samconfig.toml && return 0
	done
	return 0
}

if [[ -z $(samconfig_get stack_name) ]]; then
	$guided || echo "deploy: samconfig.toml names no stack yet: running a guided deploy"
	guided=true
fi

# Lambda runs the functions on arm64 (template Globals): build for it whatever this machine is.
echo "==> sam build"
GOOS=linux GOARCH=arm64 LAMBDA_GOARCH=arm64 "$SAM" build --config-env "$SAM_CONFIG_ENV"

# CloudFront web ACLs exist only in us-east-1. A stack there makes its own; for one elsewhere,
# template.yaml's EdgeWebACL alone (infra/cmd/edgewaf) is deployed to us-east-1 as $stack-edge,
# with the limits the stack has, and the stack is given its ARN (EdgeWebACLArn) on every deploy.
# edge_web_acl deploys it and sets edge_arn; its arguments are the two limits.
edge_arn=""
edge_web_acl() {
	echo "==> CloudFront web ACL (us-east-1, stack $1-edge)"
	local template
	template=$(mktemp)
	go run ./infra/cmd/edgewaf -template template.yaml >"$template"
	"$AWS_CLI" --region us-east-1 cloudformation deploy --stack-name "$1-edge" --template-file "$template" \
		--parameter-overrides "EdgeRequestsPerClient=$2" "EdgeApiWritesPerClient=$3" --no-fail-on-empty-changeset
	rm -f "$template"
	edge_arn=$("$AWS_CLI" --region us-east-1 cloudformation describe-stacks --stack-name "$1-edge" \
		--query "Stacks[0].Outputs[?OutputKey=='EdgeWebACLArn'].OutputValue" --output text)
	[[ -n $edge_arn && $edge_arn != None ]] || die "stack $1-edge has no EdgeWebACLArn output"
}
# sam_deploy runs a non-guided sam deploy with samconfig.toml's parameters plus EdgeWebACLArn
# (--parameter-overrides replaces samconfig's, so they are passed along).
sam_deploy() {
	local overrides
	overrides=$(samconfig_get parameter_overrides | sed 's/\\"/"/g')
	if [[ -n $edge_arn ]]; then
		"$SAM" deploy --config-env "$SAM_CONFIG_ENV" --parameter-overrides "$overrides EdgeWebACLArn=\"$edge_arn\""
	else
		"$SAM" deploy --config-env "$SAM_CONFIG_ENV"
	fi
}
stack_param() {
	"$AWS_CLI" --region "$2" cloudformation describe-stacks --stack-name "$1" \
		--query "Stacks[0].Parameters[?ParameterKey=='$3'].ParameterValue" --output text 2>/dev/null || true
}

stack=$(samconfig_get stack_name)
region=$(samconfig_get region)
if ! $guided && [[ -n $region && $region != us-east-1 ]]; then
	edge_web_acl "$stack" "$(stack_param "$stack" "$region" EdgeRequestsPerClient | sed 's/^None$/1000/')" \
		"$(stack_param "$stack" "$region" EdgeApiWritesPerClient | sed 's/^None$/100/')"
fi

echo "==> sam deploy"
if $guided; then
	"$SAM" deploy --guided --config-env "$SAM_CONFIG_ENV"
else
	sam_deploy
fi

stack=$(samconfig_get stack_name)
[[ -n $stack ]] || die "samconfig.toml still names no stack after the deploy"
region=$(samconfig_get region)
region=${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-$("$AWS_CLI" configure get region || true)}}}
[[ -n $region ]] || die "no region: set one in samconfig.toml (sam deploy --guided) or AWS_REGION"
aws_() { "$AWS_CLI" --region "$region" "$@"; }

# The first, guided deploy of a stack outside us-east-1 had no web ACL to give CloudFront yet.
if [[ $region != us-east-1 && -z $edge_arn ]]; then
	edge_web_acl "$stack" "$(stack_param "$stack" "$region" EdgeRequestsPerClient)" "$(stack_param "$stack" "$region" EdgeApiWritesPerClient)"
	echo "==> sam deploy (CloudFront gets the web ACL)"
	sam_deploy
fi

# Read the parameters the stack runs with (defaults included) and its outputs, as key<TAB>value
# lines. (No associative arrays: macOS still ships bash 3.2.)
params=$(aws_ cloudformation describe-stacks --stack-name "$stack" \
	--query 'Stacks[0].Parameters[].[ParameterKey,ParameterValue]' --output text)
outputs=$(aws_ cloudformation describe-stacks --stack-name "$stack" \
	--query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text)

# lookup LINES KEY prints the value for KEY, or fails the deploy naming what is missing.
lookup() {
	local value
	value=$(awk -F '\t' -v key="$2" '$1 == key { sub(/^[^\t]*\t/, ""); print; exit }' <<<"$1")
	[[ -n $value && $value != None ]] || die "stack $stack has no $3 $2"
	printf '%s' "$value"
}
param() { lookup "$params" "$1" parameter; }
output() { lookup "$outputs" "$1" output; }

site_bucket=$(output SiteBucketName)
distribution=$(output DistributionId)
portal_url=$(output PortalURL)

# The hash key (the key of every keyed hash the portal stores) is made once, by KMS, and kept in
# the table only encrypted; the functions may only decrypt it. Running this again changes nothing.
echo "==> hash key"
go run ./infra/cmd/portalkey -region "$region" -table "$(output TableName)" -key "$(output PortalKeyId)"

# The published policy states what the stack enforces: build it from the same values
# (site/hugo.toml lists the variables). Hugo resolves --destination against --source, so
# "public" here is site/public.
echo "==> hugo (site/public)"
export HUGO_PARAMS_OPERATOR_NAME HUGO_PARAMS_OPERATOR_CONTACT HUGO_PARAMS_OPERATOR_OFFICER \
	HUGO_PARAMS_OPERATOR_REGION HUGO_PARAMS_RETENTION_EXPORTDAYS HUGO_PARAMS_RETENTION_SESSIONHOURS \
	HUGO_PARAMS_RETENTION_CODEMINUTES HUGO_PARAMS_RETENTION_PENDINGDAYS HUGO_PARAMS_RETENTION_BACKUPDAYS
HUGO_PARAMS_OPERATOR_NAME=$(param OperatorName)
HUGO_PARAMS_OPERATOR_CONTACT=$(param OperatorContact)
HUGO_PARAMS_OPERATOR_OFFICER=$(param ProtectionOfficerContact)
HUGO_PARAMS_OPERATOR_REGION=$(param HomeRegion)
HUGO_PARAMS_RETENTION_EXPORTDAYS=$(param ExportRetentionDays)
HUGO_PARAMS_RETENTION_SESSIONHOURS=$(param SessionHours)
HUGO_PARAMS_RETENTION_CODEMINUTES=$(param VerificationCodeMinutes)
HUGO_PARAMS_RETENTION_PENDINGDAYS=$(param PendingAccountDays)
HUGO_PARAMS_RETENTION_BACKUPDAYS=$(param BackupDays)
(cd site/tools && go tool hugo --source .. --destination public --cleanDestinationDir)
# The functions read the portal's address (for mailed links and the Origin check) from here:
# without a custom domain it is CloudFront's, which their environment cannot name.
printf '{"url":"%s"}\n' "$portal_url" >site/public/portal.json

echo "==> upload to s3://$site_bucket"
# The public notices the operator published (portalctl campaign publish) live only in the
# bucket: the sync must not delete them.
aws_ s3 sync site/public "s3://$site_bucket" --delete --exclude 'notices/*.json'

echo "==> invalidate CloudFront $distribution"
aws_ cloudfront create-invalidation --distribution-id "$distribution" --paths '/*' \
	--query 'Invalidation.Id' --output text

echo
echo "The portal is at $portal_url"
