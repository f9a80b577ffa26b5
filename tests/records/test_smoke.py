from kartoteka.records.selectors import get_record
from kartoteka.records.services import create_record


def test_new_counterparty_gets_default_type_status_and_manager(admin, table):
    # given
    counterparties = table("counterparties")
    # when
    record = create_record(admin, counterparties, {"name": "ООО «Ромашка»"})
    # then
    stored = get_record(admin, counterparties, record.pk)
    assert (stored.type, stored.status, stored.manager_id) == ("potential", "cold", admin.user_id)
