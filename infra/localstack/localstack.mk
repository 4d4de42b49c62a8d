# The LocalStack path: the portal deployed with SAM to a LocalStack 4.x container, for people
# with a Docker engine. Included by the main Makefile; infra/localstack/README.md explains it,
# including what the free image cannot run.

LOCALSTACK_COMPOSE  := docker compose -f infra/localstack/compose.yaml
# localhost.localstack.cloud resolves to 127.0.0.1 (and *.localhost.localstack.cloud too, which
# S3 virtual-host addressing and API Gateway's execute-api host names need).
LOCALSTACK_ENDPOINT ?= http://localhost.localstack.cloud:4566
LOCALSTACK_REGION   ?= us-east-1
LOCALSTACK_STACK    ?= privacy-portal-local
LOCALSTACK_STAGE    ?= local
LOCALSTACK_SENDER   ?= privacy@example.com
# End-to-end tests left out on LocalStack, by name (go test -skip): those that need CloudFront
# (one origin for the site and /api/*, its security headers) or a browser on the site. The tests
# that need the local cloud itself (its table, logs, site files) leave themselves out under
# PORTAL_URL and say why (e2e/main_test.go, localOnly).
LOCALSTACK_E2E_SKIP ?= Edge|Browser
# The functions run natively in LocalStack's Lambda containers (LAMBDA_IGNORE_ARCHITECTURE=1 in
# compose.yaml), so they are built for this machine's CPU, not the template's arm64.
LOCALSTACK_GOARCH   ?= $(shell go env GOARCH)
SAMLOCAL            ?= samlocal
# Debian's AWS CLI v2; the first `aws` on PATH may be an old v1.
AWS_CLI             ?= /usr/bin/aws

localstack_env = AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	AWS_REGION=$(LOCALSTACK_REGION) AWS_DEFAULT_REGION=$(LOCALSTACK_REGION) \
	AWS_ENDPOINT_URL=$(LOCALSTACK_ENDPOINT)
localstack_aws = $(localstack_env) $(AWS_CLI) --endpoint-url $(LOCALSTACK_ENDPOINT)
# $(call localstack_output,Key) is a shell command printing one output of the deployed stack.
localstack_output = $(localstack_aws) cloudformation describe-stacks --stack-name $(LOCALSTACK_STACK) \
	--query "Stacks[0].Outputs[?OutputKey=='$(1)'].OutputValue" --output text
# The stage URL, in the form LocalStack documents for REST APIs (a shell expression).
localstack_portal_url = http://$$($(call localstack_output,ApiId)).execute-api.localhost.localstack.cloud:4566/$(LOCALSTACK_STAGE)
localstack_check = curl -fsS -o /dev/null $(LOCALSTACK_ENDPOINT)/_localstack/health \
	|| { echo "LocalStack does not answer on $(LOCALSTACK_ENDPOINT): run 'make localstack-up' first" >&2; exit 1; }

.PHONY: localstack-up localstack-deploy localstack-test localstack-down

localstack-up: ## Start LocalStack 4.14 (free image, needs Docker) on 127.0.0.1:4566 and wait until healthy
	$(LOCALSTACK_COMPOSE) up -d --wait

localstack-deploy: ## Build for this CPU and deploy stack, site and SES sender to LocalStack with samlocal
	@$(localstack_check)
	@command -v $(SAMLOCAL) >/dev/null || { echo "$(SAMLOCAL) not found: pip install aws-sam-cli-local (it wraps the SAM CLI)" >&2; exit 1; }
	@test -x $(AWS_CLI) || { echo "$(AWS_CLI) not found: apt-get install awscli, or set AWS_CLI" >&2; exit 1; }
	$(localstack_env) GOOS=linux GOARCH=$(LOCALSTACK_GOARCH) LAMBDA_GOARCH=$(LOCALSTACK_GOARCH) \
		$(SAMLOCAL) build --config-env localstack
	$(localstack_env) $(SAMLOCAL) deploy --config-env localstack \
		--stack-name $(LOCALSTACK_STACK) --region $(LOCALSTACK_REGION) \
		--parameter-overrides HomeRegion=$(LOCALSTACK_REGION) Stage=$(LOCALSTACK_STAGE) \
		SenderAddress=$(LOCALSTACK_SENDER) DeletionProtection=false BehindCloudFront=false
	$(localstack_aws) ses verify-email-identity --email-address $(LOCALSTACK_SENDER)
	$(localstack_env) go run ./infra/cmd/portalkey -region $(LOCALSTACK_REGION) \
		-table $$($(call localstack_output,TableName)) -key $$($(call localstack_output,PortalKeyId))
	cd site/tools && go tool hugo --source .. --destination public --cleanDestinationDir --quiet
	printf '{"url":"%s"}\n' "$(call localstack_portal_url)" >site/public/portal.json
	bucket=$$($(call localstack_output,SiteBucketName)) && \
		$(localstack_aws) s3 sync site/public s3://$$bucket --delete --only-show-errors
	@echo "PORTAL_URL=$(call localstack_portal_url)"

localstack-test: ## Run the end-to-end tests against the LocalStack stack (CloudFront-only tests left out by name)
	@$(localstack_check)
	@pkgs=$$(go list ./... | grep /e2e); \
	test -n "$$pkgs" || { echo "no end-to-end test package (./.../e2e) to run" >&2; exit 1; }; \
	api=$$($(call localstack_output,ApiId)); \
	test -n "$$api" && test "$$api" != None || { echo "no $(LOCALSTACK_STACK) stack on LocalStack: run 'make localstack-deploy' first" >&2; exit 1; }; \
	set -x; \
	PORTAL_URL=http://$$api.execute-api.localhost.localstack.cloud:4566/$(LOCALSTACK_STAGE) \
	PORTAL_MAILBOX_URL=$(LOCALSTACK_ENDPOINT)/_aws/ses \
	$(localstack_env) go test -count=1 -timeout $(or $(TEST_TIMEOUT),15m) -skip '$(LOCALSTACK_E2E_SKIP)' $$pkgs

localstack-down: ## Stop and remove the LocalStack container; its state (in memory) goes with it
	$(LOCALSTACK_COMPOSE) down --remove-orphans
