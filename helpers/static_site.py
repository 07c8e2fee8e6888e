"""What the static frontend's distribution is made of, without Pulumi: the SPA fallback function's code,
AWS's managed policy ids, the origin header. Pure, so the function's JavaScript runs in tests (node)."""

from __future__ import annotations

# AWS managed cache and origin request policies (docs: "Use managed cache policies", "... origin request
# policies"): the ids are the same in every account.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# CloudFront's addresses towards origins (one managed prefix list per region, same name everywhere).
CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
# The header CloudFront adds to every request to the load balancer, whose listener rules require it.
ORIGIN_HEADER_NAME = "X-Origin-Verify"
# CloudFront's hosted zone for alias records (the same for every distribution).
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"
FUNCTION_RUNTIME = "cloudfront-js-2.0"

# Viewer request on the bucket's behaviour only: a path whose last segment has no extension (/, /about,
# /users/42) is a route of the single-page app and gets its /index.html; files (/assets/app.js,
# /favicon.ico) pass unchanged, and a missing file stays a 404. The API's behaviours never run it, so
# their 404s stay 404s (distribution-wide custom error responses would rewrite them too).
SPA_FALLBACK_CODE = """\
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
"""
