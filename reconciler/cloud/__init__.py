"""The only package that talks to Azure."""
