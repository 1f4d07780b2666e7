"""Which inventory resource a bill's ResourceId is."""

import pytest

from finops.data.resource_bills import bill_id_key, tag_value

INVENTORY = {
    "i-0abc": ("ec2", "i-0abc"),
    "orders": ("rds", "orders"),
    "web-1": ("app", "web-1"),
    "arn:aws:ecs:eu-west-1:1:service/c/api": ("ecs", "arn:aws:ecs:eu-west-1:1:service/c/api"),
}


@pytest.mark.parametrize(
    ("bill_id", "key"),
    [
        ("i-0abc", ("ec2", "i-0abc")),  # the same id
        ("web-1", ("app", "web-1")),
        ("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc", ("ec2", "i-0abc")),  # after the ARN's last /
        ("arn:aws:rds:eu-west-1:123456789012:db:orders", ("rds", "orders")),  # after the ARN's last :
        ("arn:aws:ecs:eu-west-1:1:service/c/api", ("ecs", "arn:aws:ecs:eu-west-1:1:service/c/api")),  # whole ARN
        ("arn:aws:ec2:eu-west-1:123456789012:instance/i-9999", None),  # not in the inventory
        ("/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/web-1", None),  # only ARNs are cut
        ("I-0ABC", None),  # ids are compared exactly
        ("", None),
    ],
)
def test_a_bill_id_is_the_inventory_resource_with_its_id(bill_id, key):
    assert bill_id_key(bill_id, INVENTORY) == key


@pytest.mark.parametrize(
    ("tags_text", "value"),
    [
        ('{"finops-resource-id": "web-1"}', "web-1"),
        ('{"user:finops-resource-id": "web-2", "team": "x"}', "web-2"),  # AWS's prefix for user tags
        ('{"finops-resource-id": "a", "user:finops-resource-id": "b"}', "a"),  # the plain key first
        ('{"Finops-Resource-Id": "web-1"}', None),  # tag keys are compared exactly
        ('{"note": "finops-resource-id"}', None),  # the key as a value
        ('{"finops-resource-id": ""}', None),
        ('{"finops-resource-id": 42}', "42"),
        ("{}", None),
        ("", None),
        (None, None),
        ("not json", None),
        ('["finops-resource-id"]', None),
    ],
)
def test_the_resource_tag_names_the_inventory_resource(tags_text, value):
    assert tag_value(tags_text, "finops-resource-id") == value


def test_no_resource_tag_names_nothing():
    assert tag_value('{"finops-resource-id": "web-1"}', "") is None
