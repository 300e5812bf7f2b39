"""Web layer: one blueprint per area, thin views, forms beside them."""
