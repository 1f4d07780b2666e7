"""Resource Groups: members group their resources; admins see every group, members only their own."""

import streamlit as st

from finops import auth, ui
from finops.data import groups, resources
from finops.ui import groups as gui

user = auth.require_role(auth.MEMBER)
actor = gui.actor_of(user)
st.title("Resource Groups")
gui.flash()

c1, c2, c3, c4 = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
search = c1.text_input("Search", key="rg_search", placeholder="Name or description")
status = c2.selectbox("Status", ["active", "archived", "all"], key="rg_status")
page_no = int(c3.number_input("Page", min_value=1, step=1, key="rg_page"))
if c4.button("New group", key="rg_new", icon=":material/add:", type="primary"):
    gui.open_dialog("create")
listed = gui.call(groups.list_groups, actor=actor, status=None if status == "all" else status, search=search,
                  page=page_no, per_page=gui.PER_PAGE)  # fmt: skip
table, total = listed if listed is not None else (None, 0)
if table is None:
    st.stop()
gui.show_dialog(actor, table.set_index("id").to_dict("index"))

st.caption(gui.page_span(page_no, len(table), total))
if table.empty:
    st.info("No groups match this search or status: clear the search, pick another status, or create a group with "
            "**New group**." if search.strip() or status != "active" else
            "No resource groups yet. Create one with **New group**, then add the resources you own to it; Stop all "
            "and Start all then act on the whole group.")  # fmt: skip
else:
    ui.table(table[gui.GROUP_VIEW], csv=("resource_groups.csv", "Download groups", "dl_groups"))
    names = dict(zip(table["id"], table["name"], strict=True))
    gui.focused(list(names))
    gid = st.selectbox("Group", list(names), format_func=lambda i: f"{names[i]} (#{i})", key="rg_selected")
    group = table.set_index("id").loc[gid]
    st.subheader(f"{ui.plain(group['name'])} (group #{gid})")
    if st.button("Edit group", key="rg_edit", icon=":material/edit:"):
        gui.open_dialog(f"edit:{gid}")
        st.rerun()
    gui.power_panel(actor, gid)

    confirm = st.checkbox("Yes, delete this group and its memberships", key=f"rg_confirm_{gid}")
    if st.button("Delete group", key="rg_delete", disabled=not confirm):
        if gui.succeeded(groups.delete_group, actor=actor, group_id=gid):
            st.session_state[gui.FLASH] = f"Deleted group {ui.plain(repr(group['name']))}."
            st.rerun()

    st.subheader("Members")
    found = gui.call(groups.members, actor=actor, group_id=gid)
    if found is not None:
        view = gui.member_view(found)
        if view.empty:
            st.info("This group has no resources yet: add the ones you own under **Add resource** below.")
        ui.table(view, csv=(f"group_{gid}_members.csv", "Download members", "dl_members"))
        keys = [f"{t}:{i}" for t, i in zip(view["resource_type"], view["resource_id"], strict=True)]
        drop = st.multiselect("Members to remove", keys, key=f"rg_drop_{gid}")
        if st.button("Remove selected", key="rg_remove", disabled=not drop):
            pairs = [key.split(":", 1) for key in drop]
            if all([gui.succeeded(groups.remove_resource, actor=actor, group_id=gid, resource_type=t, resource_id=i)
                    for t, i in pairs]):  # fmt: skip
                st.rerun()

    st.subheader("Add resource")
    gui.add_resource_panel(actor, gid)

st.subheader("Find groups of a resource")
f1, f2 = st.columns(2)
find_type = f1.selectbox("Resource type", resources.RESOURCE_TYPES, key="rg_find_type")
find_id = f2.text_input("Resource id", key="rg_find_id")
if find_id.strip():
    holders = gui.call(groups.groups_of_resource, actor=actor, resource_type=find_type, resource_id=find_id.strip())
    if holders is not None:
        if holders.empty:
            st.caption("No group you can see holds this resource.")
        else:
            ui.table(holders)
