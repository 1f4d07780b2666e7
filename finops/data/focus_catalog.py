"""FOCUS 1.2 vocabularies for the export: the ServiceCategory and ServiceSubcategory of known service names, and
the display name of known region codes. Unknown services are "Other" / "Other (Other)", as the spec asks when no
category fits; an unknown region's name is its code."""

OTHER = ("Other", "Other (Other)")

# Cost Explorer's SERVICE names (what aws_ce and the demo store) and CUR 2.0's product codes (what cur2 stores);
# each maps to the one category and subcategory that best fits its primary purpose (FOCUS 1.2 allowed values).
_SERVICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Compute", "Virtual Machines"): (
        "Amazon Elastic Compute Cloud - Compute",
        "Amazon Elastic Compute Cloud",
        "AmazonEC2",
        "Amazon Lightsail",
        "AmazonLightsail",
    ),
    ("Compute", "Serverless Compute"): ("AWS Lambda", "AWSLambda"),
    ("Compute", "Containers"): (
        "Amazon Elastic Kubernetes Service",
        "AmazonEKS",
        "Amazon Elastic Container Service",
        "AmazonECS",
        "Amazon EC2 Container Registry (ECR)",
        "AmazonECR",
        "AWS Fargate",
    ),
    ("Compute", "End User Computing"): ("Amazon WorkSpaces", "AmazonWorkSpaces"),
    ("Compute", "Other (Compute)"): ("EC2 - Other",),
    ("Databases", "Relational Databases"): ("Amazon Relational Database Service", "AmazonRDS", "Amazon Aurora"),
    ("Databases", "Data Warehouses"): ("Amazon Redshift", "AmazonRedshift"),
    ("Databases", "Caching"): ("Amazon ElastiCache", "AmazonElastiCache", "Amazon MemoryDB", "AmazonMemoryDB"),
    ("Databases", "NoSQL Databases"): ("Amazon DynamoDB", "AmazonDynamoDB", "Amazon DocumentDB", "AmazonDocDB"),
    ("Storage", "Object Storage"): ("Amazon Simple Storage Service", "AmazonS3", "Amazon S3 Glacier", "AmazonGlacier"),
    ("Storage", "File Storage"): ("Amazon Elastic File System", "AmazonEFS", "Amazon FSx", "AmazonFSx"),
    ("Storage", "Backup Storage"): ("AWS Backup", "AWSBackup"),
    ("Networking", "Content Delivery"): ("Amazon CloudFront", "AmazonCloudFront"),
    ("Networking", "Network Infrastructure"): ("Amazon Virtual Private Cloud", "AmazonVPC"),
    ("Networking", "Application Networking"): ("Elastic Load Balancing", "AWSELB"),
    ("Networking", "Network Routing"): ("Amazon Route 53", "AmazonRoute53"),
    ("Networking", "Network Connectivity"): ("AWS Direct Connect", "AWSDirectConnect", "AWS Data Transfer"),
    ("Analytics", "Search"): ("Amazon OpenSearch Service", "AmazonES"),
    ("Analytics", "Data Processing"): ("AWS Glue", "AWSGlue", "Amazon Elastic MapReduce", "ElasticMapReduce"),
    ("Analytics", "Streaming Analytics"): ("Amazon Kinesis", "AmazonKinesis", "Amazon Kinesis Firehose"),
    ("Analytics", "Analytics Platforms"): ("Amazon Athena", "AmazonAthena"),
    ("Analytics", "Business Intelligence"): ("Amazon QuickSight", "AmazonQuickSight"),
    ("Management and Governance", "Observability"): ("Amazon CloudWatch", "AmazonCloudWatch", "AWS X-Ray"),
    ("Management and Governance", "Compliance"): ("AWS Config", "AWSConfig", "AWS CloudTrail", "AWSCloudTrail"),
    ("Management and Governance", "Cost Management"): ("AWS Cost Explorer", "AWSCostExplorer"),
    ("Security", "Threat Detection and Response"): ("Amazon GuardDuty", "AmazonGuardDuty"),
    ("Security", "Secret Management"): (
        "AWS Key Management Service",
        "awskms",
        "AWS Secrets Manager",
        "AWSSecretsManager",
    ),
    ("Security", "Security Posture Management"): ("AWS Security Hub", "AWSSecurityHub"),
    ("Integration", "Messaging"): (
        "Amazon Simple Queue Service",
        "AWSQueueService",
        "Amazon Simple Notification Service",
        "AmazonSNS",
    ),
    ("Integration", "API Management"): ("Amazon API Gateway", "AmazonApiGateway"),
    ("Integration", "Workflow Orchestration"): ("AWS Step Functions", "AmazonStates"),
    ("AI and Machine Learning", "Machine Learning"): ("Amazon SageMaker", "AmazonSageMaker"),
    ("AI and Machine Learning", "Generative AI"): ("Amazon Bedrock", "AmazonBedrock"),
    ("Identity", "Identity and Access Management"): ("Amazon Cognito", "AmazonCognito"),
}
SERVICE_CATEGORIES: dict[str, tuple[str, str]] = {
    name: category for category, names in _SERVICES.items() for name in names
}

# AWS region codes and the names AWS's billing files (FOCUS RegionName) give them
AWS_REGIONS = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ca-central-1": "Canada (Central)",
    "eu-central-1": "Europe (Frankfurt)",
    "eu-central-2": "Europe (Zurich)",
    "eu-west-1": "Europe (Ireland)",
    "eu-west-2": "Europe (London)",
    "eu-west-3": "Europe (Paris)",
    "eu-north-1": "Europe (Stockholm)",
    "eu-south-1": "Europe (Milan)",
    "me-south-1": "Middle East (Bahrain)",
    "sa-east-1": "South America (Sao Paulo)",
}


def service_category(service: str) -> tuple[str, str]:
    """FOCUS (ServiceCategory, ServiceSubcategory) of a service name; ("Other", "Other (Other)") when unknown."""
    return SERVICE_CATEGORIES.get(service, OTHER)


def region_name(region: str) -> str:
    """The display name of a region code (AWS's), or the code itself when it is not known."""
    return AWS_REGIONS.get(region, region)
