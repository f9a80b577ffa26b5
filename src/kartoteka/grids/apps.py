from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "kartoteka.grids"
    label = "grids"
    verbose_name = "Grid views and preferences"
