import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import { ApiKey } from '../entities/api-key.entity';
import { API_ROLES, ApiRole } from '../roles';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'Who or what uses the key, e.g. "attendance".', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ enum: API_ROLES })
  @IsIn(API_ROLES)
  role: ApiRole;
}

export class ApiKeyDto {
  @ApiProperty()
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: API_ROLES })
  role: ApiRole;

  @ApiProperty({ description: 'First characters of the key, to tell keys apart.', example: 'rhk_Xb3kQ9aZ' })
  keyPrefix: string;

  @ApiProperty({ nullable: true, type: String })
  createdBy: string | null;

  @ApiProperty({ description: 'Epoch milliseconds.' })
  createdAt: number;

  @ApiProperty({ nullable: true, type: Number, description: 'Epoch milliseconds, to the minute.' })
  lastUsedAt: number | null;

  @ApiProperty({ nullable: true, type: Number, description: 'Epoch milliseconds; a revoked key is refused.' })
  revokedAt: number | null;

  static from(k: ApiKey): ApiKeyDto {
    return {
      id: k.id,
      name: k.name,
      role: k.role,
      keyPrefix: k.keyPrefix,
      createdBy: k.createdBy,
      createdAt: k.createdAt,
      lastUsedAt: k.lastUsedAt,
      revokedAt: k.revokedAt,
    };
  }
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The key. Shown only in this response; only its hash is stored.' })
  key: string;
}
