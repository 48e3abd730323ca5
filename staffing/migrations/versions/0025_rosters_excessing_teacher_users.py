"""rosters, excessing notices, teacher sign-ins

Revision ID: 0025
Revises: 0006
Create Date: 2026-12-06 10:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0025'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenured', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('teacher_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_foreign_key('fk_app_user_teacher_id', 'teacher', ['teacher_id'], ['teacher_id'])
    op.create_table('excess_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('school_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('certification', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('posts_cut', sa.Integer(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('seniority_list', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.school_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('excess_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_excess_decision_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_excess_decision_school_id'), ['school_id'], unique=False)
    op.create_table('excess_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('school_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('certification', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('notice_date', sa.Date(), nullable=False),
    sa.Column('must_place', sa.Boolean(), nullable=False),
    sa.Column('return_rights', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['excess_decision.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.school_id'], ),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.teacher_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('excess_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_excess_notice_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_excess_notice_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_excess_notice_teacher_id'), ['teacher_id'], unique=False)
    op.create_table('pool_setting',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('pool_setting')
    with op.batch_alter_table('excess_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_excess_notice_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_excess_notice_school_id'))
        batch_op.drop_index(batch_op.f('ix_excess_notice_decision_id'))
    op.drop_table('excess_notice')
    with op.batch_alter_table('excess_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_excess_decision_school_id'))
        batch_op.drop_index(batch_op.f('ix_excess_decision_created_at'))
    op.drop_table('excess_decision')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_app_user_teacher_id', type_='foreignkey')
        batch_op.drop_column('teacher_id')
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.drop_column('rating')
        batch_op.drop_column('tenured')
