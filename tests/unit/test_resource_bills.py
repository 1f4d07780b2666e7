"""Which inventory resource a bill's ResourceId is."""

import pytest

from finops.data.resource_bills import bill_id_key

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
