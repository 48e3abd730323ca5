"""school city and waivers; rule-table budget basis, outside-district, zone and committee roles

Revision ID: 0026
Revises: 0006
Create Date: 2026-12-06 10:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0026'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='other'))
        batch_op.add_column(sa.Column('waivers', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('school_model_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('budget_basis', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='average'))
        batch_op.add_column(sa.Column('outside_district', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('committee_roles', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('school_model_rule', schema=None) as batch_op:
        for column in ('committee_roles', 'zone', 'outside_district', 'budget_basis'):
            batch_op.drop_column(column)
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('waivers')
        batch_op.drop_column('city')
