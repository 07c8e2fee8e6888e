"""ImageRepository: the ECR repository a service's images are pushed to.

Scanned on push, encrypted, tags immutable in prod (a tag such as the git SHA always names the same
image), and a lifecycle policy that expires untagged images after a few days and keeps the newest
N tagged ones (the window a rollback can reach back into).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from helpers.names import image_reference
from helpers.registry import lifecycle_policy
from stackconfig.edge import RegistryConfig


@dataclass(frozen=True)
class ImageRepositoryArgs:
    # `force_delete`: `pulumi destroy` deletes a repository that still holds images (dev stacks only).
    settings: RegistryConfig
    # The full repository name, e.g. `prod/backend` (what CI pushes to).
    repository_name: str
    # Keep the repository (and its images) in AWS when Pulumi deletes or replaces it, e.g. on a rename (prod).
    retain_on_delete: bool = False


class ImageRepository(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRepositoryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:registry:ImageRepository", name, None, opts)
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability=args.settings.tag_mutability,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type=args.settings.encryption)],
            force_delete=args.settings.force_delete,
            # A fixed name: a replacement (a changed `encryption`) must delete the old repository first.
            # retainOnDelete on the custom resource itself: the engine ignores it on components.
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=True, retain_on_delete=args.retain_on_delete
            ),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(args.settings.keep_tagged_images, args.settings.untagged_expiry_days),
            # One policy per repository, addressed by the repository's name: a replacement created first
            # would be removed by the old one's delete.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

        self.repository_url = self.repository.repository_url
        self.repository_arn = self.repository.arn
        self.register_outputs({"repositoryUrl": self.repository_url, "repositoryArn": self.repository_arn})

    def image(self, tag: Optional[str], digest: Optional[str]) -> pulumi.Output[str]:
        """`<repositoryUrl>:<tag>` or `<repositoryUrl>@<digest>`, depending on the repository (created first)."""
        return self.repository_url.apply(lambda url: image_reference(*url.split("/", 1), tag, digest))
