"""URLs of the table designer («Конструктор»); included under ``designer/``."""

from django.urls import path

from kartoteka.web import designer

urlpatterns = [
    path("", designer.home, name="designer_home"),
    path("categories/new/", designer.category_create, name="designer_category_create"),
    path(
        "categories/<slug:key>/rename/",
        designer.category_rename,
        name="designer_category_rename",
    ),
    path(
        "categories/<slug:key>/delete/",
        designer.category_delete,
        name="designer_category_delete",
    ),
    path("tables/new/", designer.table_create, name="designer_table_create"),
    path("t/<slug:key>/", designer.table_detail, name="designer_table"),
    path("t/<slug:key>/settings/", designer.table_settings, name="designer_table_settings"),
    path("t/<slug:key>/delete/", designer.table_delete, name="designer_table_delete"),
    path("t/<slug:key>/add-field/", designer.field_add, name="designer_field_add"),
    path("t/<slug:key>/f/<slug:field_key>/", designer.field_edit, name="designer_field"),
    path(
        "t/<slug:key>/f/<slug:field_key>/move/",
        designer.field_move,
        name="designer_field_move",
    ),
    path(
        "t/<slug:key>/f/<slug:field_key>/remove/",
        designer.field_remove,
        name="designer_field_remove",
    ),
]
