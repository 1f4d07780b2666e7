"""Resource Groups: members group their resources; admins see every group, members only their own."""

import streamlit as st

from finops import auth, ui
from finops.data import groups, resources
from finops.ui import groups as gui

user = auth.require_role(auth.MEMBER)
actor = gui.actor_of(user)
st.title("Resource Groups")

with st.form("rg_create", clear_on_submit=True):
    st.subheader("Create group")
    new_name = st.text_input("Name", key="rg_new_name", max_chars=groups.MAX_NAME)
    new_description = st.text_area("Description", key="rg_new_description", max_chars=groups.MAX_DESCRIPTION)
    if st.form_submit_button("Create group", key="rg_create_submit"):
        created = gui.call(groups.create_group, actor=actor, name=new_name, description=new_description)
        if created is not None:
            st.success(f"Created group {ui.plain(repr(created.name))}.")

c1, c2, c3 = st.columns([3, 1, 1])
search = c1.text_input("Search", key="rg_search", placeholder="Name or description")
status = c2.selectbox("Status", ["active", "archived", "all"], key="rg_status")
page_no = int(c3.number_input("Page", min_value=1, step=1, key="rg_page"))
listed = gui.call(
    groups.list_groups,
    actor=actor,
    status=None if status == "all" else status,
    search=search,
    page=page_no,
    per_page=gui.PER_PAGE,
)
table, total = listed if listed is not None else (None, 0)
if table is None:
    st.stop()
st.caption(gui.page_span(page_no, len(table), total))
st.dataframe(table[gui.GROUP_VIEW], hide_index=True, width="stretch")
ui.csv_download(table[gui.GROUP_VIEW], "resource_groups.csv", "Download groups", "dl_groups")

if not table.empty:
    names = dict(zip(table["id"], table["name"], strict=True))
    gid = st.selectbox("Group", list(names), format_func=lambda i: f"{names[i]} (#{i})", key="rg_selected")
    group = table.set_index("id").loc[gid]
    st.subheader(f"Group #{gid}")

    with st.form(f"rg_edit_{gid}"):
        name = st.text_input("Name", value=group["name"], key=f"rg_edit_name_{gid}")
        description = st.text_area("Description", value=group["description"], key=f"rg_edit_desc_{gid}")
        new_status = st.selectbox(
            "Status", groups.STATUSES, index=groups.STATUSES.index(group["status"]), key=f"rg_edit_status_{gid}"
        )
        if st.form_submit_button("Save changes", key="rg_edit_submit"):
            saved = gui.call(
                groups.update_group, actor=actor, group_id=gid, name=name, description=description, status=new_status
            )
            if saved is not None:
                st.rerun()

    gui.power_panel(actor, gid)

    confirm = st.checkbox("Yes, delete this group and its memberships", key=f"rg_confirm_{gid}")
    if st.button("Delete group", key="rg_delete", disabled=not confirm):
        if gui.succeeded(groups.delete_group, actor=actor, group_id=gid):
            st.rerun()

    st.subheader("Members")
    found = gui.call(groups.members, actor=actor, group_id=gid)
    if found is not None:
        view = gui.member_view(found)
        st.dataframe(
            view,
            hide_index=True,
            width="stretch",
            column_config={"monthly_cost": st.column_config.NumberColumn("Est. monthly cost", format="dollar")},
        )
        ui.csv_download(view, f"group_{gid}_members.csv", "Download members", "dl_members")
        keys = [f"{t}:{i}" for t, i in zip(view["resource_type"], view["resource_id"], strict=True)]
        drop = st.multiselect("Members to remove", keys, key=f"rg_drop_{gid}")
        if st.button("Remove selected", key="rg_remove", disabled=not drop):
            pairs = [key.split(":", 1) for key in drop]
            if all(
                [
                    gui.succeeded(groups.remove_resource, actor=actor, group_id=gid, resource_type=t, resource_id=i)
                    for t, i in pairs
                ]
            ):
                st.rerun()

    st.subheader("Add resource")
    a1, a2 = st.columns(2)
    kind = a1.selectbox("Resource type", resources.RESOURCE_TYPES, key="rg_add_type")
    term = a2.text_input("Search inventory", key="rg_add_search")
    # only what this user may put in a group: their own resources (admins: the whole inventory)
    inventory = gui.call(resources.list_resources, resource_type=kind, search=term, actor=actor)
    if inventory is None or inventory.empty:
        st.caption("None of your inventory resources of this type match." if not actor.is_admin
                   else "No inventory resources of this type match.")  # fmt: skip
    else:
        rows = {f"{r['resource_type']}:{r['resource_id']}": r for r in inventory.to_dict("records")}
        pick = st.selectbox("Resource", list(rows), format_func=lambda k: gui.resource_label(rows[k]), key="rg_pick")
        if st.button("Add to group", key="rg_add", disabled=pick is None):
            chosen = rows[pick]
            added = gui.call(
                groups.add_resource,
                actor=actor,
                group_id=gid,
                resource_type=chosen["resource_type"],
                resource_id=chosen["resource_id"],
            )
            if added is not None:
                st.rerun()

st.subheader("Find groups of a resource")
f1, f2 = st.columns(2)
find_type = f1.selectbox("Resource type", resources.RESOURCE_TYPES, key="rg_find_type")
find_id = f2.text_input("Resource id", key="rg_find_id")
if find_id.strip():
    holders = gui.call(groups.groups_of_resource, actor=actor, resource_type=find_type, resource_id=find_id.strip())
    if holders is not None:
        st.dataframe(holders, hide_index=True, width="stretch")
