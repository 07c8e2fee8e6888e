"""ECR lifecycle policy. Pure, so the rules are tested without Pulumi."""

from __future__ import annotations

import json


def lifecycle_policy(keep_tagged_images: int, untagged_expiry_days: int) -> str:
    """Expire untagged images after a few days; keep only the newest `keep_tagged_images` tagged ones.

    `tagStatus: tagged` needs a tag filter; `tagPatternList: ["*"]` matches every tag.
    """
    return json.dumps({
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_expiry_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_expiry_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {keep_tagged_images} tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_tagged_images,
                },
                "action": {"type": "expire"},
            },
        ]
    })
