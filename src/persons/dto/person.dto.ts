import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, IsUUID, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import { ToEpochMs } from '../../common/query-transforms';

export class PersonListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'user_type of the person’s newest sighting: employee, visitor, blacklist, stranger, vip, …' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  userType?: string;

  @ApiPropertyOptional({ description: 'Only persons ever seen at this box (see /boxes).', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  boxId?: string;
}

export class PresenceQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    type: String,
    description: 'Seen at or after: epoch milliseconds or an ISO 8601 date-time (box clock). Default: one hour ago.',
  })
  @IsOptional()
  @ToEpochMs()
  @IsInt({ message: 'since must be epoch milliseconds or an ISO 8601 date' })
  @Min(0)
  since?: number;

  @ApiPropertyOptional({ description: 'Only sightings at this box.', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  boxId?: string;

  @ApiPropertyOptional({ description: 'Only sightings by this media device.', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  mediaDeviceId?: string;

  @ApiPropertyOptional({ description: 'Only sightings whose record has this user_type.' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  userType?: string;
}

export class LinkIdentityDto {
  @ApiProperty({ format: 'uuid', description: 'The identity (see /identities).' })
  @IsUUID('all')
  identityId: string;
}

export class SightingDto {
  @ApiProperty({ description: 'Box event time, epoch ms.' }) at: number;
  @ApiProperty({ format: 'uuid' }) boxId: string;
  @ApiProperty({ format: 'uuid' }) mediaDeviceId: string;
  @ApiProperty({ format: 'uuid', description: 'The record of the sighting (see /records/{id}).' }) recordId: string;
}

export class PersonDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Identities (box library entries) that are this person.' }) identityCount: number;
  @ApiProperty({ nullable: true, type: String, description: 'user_type of the newest sighting.' }) userType: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Box event time of the oldest sighting, epoch ms.' }) firstSeenAt:
    number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Box event time of the newest sighting, epoch ms.' }) lastSeenAt: number | null;
  @ApiProperty({ type: SightingDto, nullable: true, description: 'Where and when the person was last seen.' }) lastSeen: SightingDto | null;
}

export class PersonPageDto {
  @ApiProperty({ type: [PersonDto] }) items: PersonDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end.' }) nextCursor:
    string | null;
}

export class PersonFaceDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String, description: 'Image endpoint (biometric-reader).' }) imageUrl: string | null;
  @ApiProperty({ description: 'Box event time, epoch ms.' }) capturedAt: number;
}

export class PersonIdentityDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'identity_id as the boxes send it.' }) externalId: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ nullable: true, type: String }) userType: string | null;
  @ApiProperty({ description: 'Epoch ms.' }) firstSeenAt: number;
  @ApiProperty({ description: 'Epoch ms.' }) lastSeenAt: number;
  @ApiProperty({ type: PersonFaceDto, nullable: true, description: 'The current registered face (no image bytes).' })
  currentFace: PersonFaceDto | null;
  @ApiProperty({ example: 'face-match', description: 'own | face-match | operator | identity-merge | unlinked' }) linkReason: string;
  @ApiProperty({ description: 'When it joined this person, epoch ms.' }) linkedAt: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Cosine similarity of the automatic link.' }) similarity: number | null;
}

export class PersonDetailDto extends PersonDto {
  @ApiProperty({ type: [PersonIdentityDto], description: 'Most recently seen first.' }) identities: PersonIdentityDto[];
  @ApiProperty({ description: 'Suggestions waiting for an operator.' }) pendingSuggestions: number;
}

export class SuggestionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) personId: string;
  @ApiProperty({ format: 'uuid', description: 'The identity that may be this person.' }) identityId: string;
  @ApiProperty({ description: 'Cosine similarity of its first face to the person’s closest face.' }) similarity: number;
  @ApiProperty({ example: 'pending', description: 'pending | accepted | rejected' }) status: string;
  @ApiProperty({ description: 'Epoch ms.' }) createdAt: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Epoch ms.' }) decidedAt: number | null;
  @ApiProperty({ nullable: true, type: String }) decidedBy: string | null;
}

export class SuggestionListDto {
  @ApiProperty({ type: [SuggestionDto], description: 'Pending first, then by similarity (at most 500).' }) items: SuggestionDto[];
}

export class PresenceItemDto {
  @ApiProperty({ format: 'uuid' }) personId: string;
  @ApiProperty({ format: 'uuid', description: 'The identity the box recognised.' }) identityId: string;
  @ApiProperty({ nullable: true, type: String, description: 'user_type of the sighting’s record.' }) userType: string | null;
  @ApiProperty({ type: SightingDto, description: 'The newest sighting in the window (matching the filters).' }) sighting: SightingDto;
}

export class PresencePageDto {
  @ApiProperty({ type: [PresenceItemDto] }) items: PresenceItemDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end.' }) nextCursor:
    string | null;
}
